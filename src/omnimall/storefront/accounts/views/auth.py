"""Signing up, in and out, and resetting a forgotten password by email.

Every page here is per visitor (a CSRF token, a form with the visitor's input), so each
is ``never_cache`` (``Cache-Control: private, no-store``) and none goes through the
catalog page cache. A successful sign-in or sign-up merges the guest's session cart into
the shopper's open cart (``checkout.services.carts.merge_carts``) and keeps the guest
orders this browser placed with the account's email in the account
(``orders.services.adoption``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from omnimall.checkout import remembered_orders
from omnimall.checkout.services import carts
from omnimall.core.errors import DomainError
from omnimall.core.numbers import display_number
from omnimall.core.shop import shop_name
from omnimall.orders.services import adoption
from omnimall.storefront.accounts import services
from omnimall.storefront.accounts.errors import EmailTakenError
from omnimall.storefront.accounts.forms import EmailAuthenticationForm, SignupForm

# Session key of the phone given at sign-up: checkout prefills its contact form with it
# when the account has neither a saved address nor a linked member (whose phone comes first).
PHONE_SESSION_KEY = "omnimall_shopper_phone"


def safe_next(request: HttpRequest, fallback: str | None = None) -> str:
    """The ``next`` parameter if it points back into this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback or reverse("account:home")


def after_sign_in(request: HttpRequest, *, guest_cart_token: str | None) -> None:
    """What a guest brought along: their bag, and their orders placed with this account's
    email (with a message naming them). Called after ``login`` rotated the session key,
    with the cart token read before it."""
    merge_session_cart(request, guest_cart_token=guest_cart_token)
    kept = adoption.adopt_guest_orders(
        user=request.user, tokens=remembered_orders.remembered(request.session)
    )
    if kept:
        numbers = "、".join(display_number(number) for number in kept)
        messages.info(
            request,
            ngettext(
                "Your order %(numbers)s placed as a guest is now in your account.",
                "Your orders %(numbers)s placed as a guest are now in your account.",
                len(kept),
            )
            % {"numbers": numbers},
        )


def merge_session_cart(request: HttpRequest, *, guest_cart_token: str | None) -> None:
    """Join the guest cart to the signed-in shopper's cart; keep the resulting token."""
    try:
        token = carts.merge_carts(user=request.user, session_cart_token=guest_cart_token)
    except DomainError:  # the guest cart is gone or not mergeable: the shopper's own stays
        token = None
    if token:
        request.session[carts.CART_SESSION_KEY] = token
    else:
        request.session.pop(carts.CART_SESSION_KEY, None)


class SignInView(auth_views.LoginView):
    """Django's sign-in (safe ``next`` handling built in) plus the cart merge.

    Repeated failures are braked by ``accounts.throttle`` (in the form).
    """

    form_class = EmailAuthenticationForm
    template_name = "storefront/account/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        guest_cart_token = self.request.session.get(carts.CART_SESSION_KEY)
        response = super().form_valid(form)  # logs in: the session key rotates
        after_sign_in(self.request, guest_cart_token=guest_cart_token)
        return response

    def get_default_redirect_url(self) -> str:
        return reverse("account:home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["signup_url"] = _with_next(reverse("account:signup"), self.get_redirect_url())
        return context


def _with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}" if target else url


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(safe_next(request))
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.register_shopper(
                email=data["email"], name=data["name"], password=data["password1"]
            )
        except EmailTakenError:
            form.add_error("email", _("An account with this email address already exists."))
        else:
            guest_cart_token = request.session.get(carts.CART_SESSION_KEY)
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[PHONE_SESSION_KEY] = data["phone"]
            after_sign_in(request, guest_cart_token=guest_cart_token)
            messages.success(
                request, _("Welcome to %(shop)s! Your account is ready.") % {"shop": shop_name()}
            )
            return HttpResponseRedirect(safe_next(request))
    context = {
        "form": form,
        "next": safe_next(request, fallback=""),
        "login_url": _with_next(reverse("account:login"), safe_next(request, fallback="")),
    }
    return render(request, "storefront/account/signup.html", context)


class SignOutView(auth_views.LogoutView):
    """POST only (Django's ``LogoutView``); then back to the home page."""

    http_method_names = ["post", "options"]

    def get_default_redirect_url(self) -> str:
        return reverse("storefront:home")


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Emails a one-time link (the demo's email backend writes it to ``var/mail``).

    The page answers the same whether or not the address has an account.
    """

    template_name = "registration/shop_password_reset_form.html"
    email_template_name = "registration/shop_password_reset_email.txt"
    html_email_template_name = "registration/shop_password_reset_email.html"
    subject_template_name = "registration/shop_password_reset_subject.txt"
    success_url = reverse_lazy("account:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # The link in the email: the configured public address, else this request's host.
        site_url = (
            settings.SITE_URL.rstrip("/") or f"{self.request.scheme}://{self.request.get_host()}"
        )
        self.extra_email_context = {"site_url": site_url}
        return super().form_valid(form)


@method_decorator(never_cache, name="dispatch")
class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/shop_password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/shop_password_reset_confirm.html"
    success_url = reverse_lazy("account:password_reset_complete")


@method_decorator(never_cache, name="dispatch")
class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/shop_password_reset_complete.html"
