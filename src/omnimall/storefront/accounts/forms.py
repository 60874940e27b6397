"""Forms of the shopper-account pages: parsing and validation only, no writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from omnimall.checkout.forms import AddressForm
from omnimall.core import throttle
from omnimall.orders.models import SHOPPER_CANCEL_REASONS

from .services import email_taken, normalise_email

MOBILE_RE = r"^1\d{10}$"
EMAIL_MAX_LENGTH = 150  # it becomes the username (150 characters at most)

mobile_validator = RegexValidator(
    MOBILE_RE, _("Enter a mainland China mobile number: 11 digits starting with 1.")
)


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    name = forms.CharField(
        label=_("Name"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        validators=[mobile_validator],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        if email_taken(email):
            raise forms.ValidationError(
                _("An account with this email address already exists. Sign in instead?"),
                code="email_taken",
            )
        return email

    def clean_phone(self) -> str:
        return "".join(self.cleaned_data["phone"].split())

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."), code="required")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords do not match."))
        elif first:
            probe = get_user_model()(
                username=data.get("email", ""),
                email=data.get("email", ""),
                first_name=data.get("name", ""),
            )
            try:
                password_validation.validate_password(first, user=probe)
            except forms.ValidationError as refused:
                self.add_error("password1", refused)
        return data


LOGIN_SCOPE = "login"  # the brake's counters for signing in (form and app tokens)


class EmailAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, with the email address as the username.

    Its one error for a wrong address or password is deliberately generic: it says
    nothing about whether an account exists.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The email address or password is not right. Please try again."),
        "throttled": _("Too many attempts to sign in. Please wait a few minutes and try again."),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Email")
        widget = self.fields["username"].widget
        # The input's own type, not an attribute: an attribute rendered a second
        # type="email" after type="text", and browsers keep the first (no email keyboard).
        widget.input_type = "email"
        widget.attrs["autocomplete"] = "email"

    def clean_username(self) -> str:
        return normalise_email(self.cleaned_data.get("username") or "")

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username") or ""
        client = throttle.client_of(self.request) if self.request is not None else ""
        if client and throttle.is_throttled(client, email, scope=LOGIN_SCOPE):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            if client:
                throttle.count_failure(client, email, scope=LOGIN_SCOPE)
            raise


class OrderLookupForm(forms.Form):
    """A guest's order found again (``orders.selectors.lookup``)."""

    number = forms.CharField(
        label=_("Order number"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    contact = forms.CharField(
        label=_("Email address or mobile number"),
        max_length=254,
        help_text=_("The one you gave at checkout."),
        widget=forms.TextInput(attrs={"autocomplete": "email"}),
    )


class AddressBookForm(AddressForm):
    """An address of the shopper's address book, which may become their default."""

    is_default = forms.BooleanField(label=_("Use as my default address"), required=False)


class CancelForm(forms.Form):
    """Why the shopper cancels: one of their reasons, or none (they need not say)."""

    why = forms.ChoiceField(
        label=_("Why are you cancelling? (optional)"),
        choices=[("", _("I would rather not say"))]
        + [(reason.value, reason.label) for reason in SHOPPER_CANCEL_REASONS],
        required=False,
        widget=forms.RadioSelect,
    )


class ReturnForm(forms.Form):
    """Which lines to return, how many of each, and why.

    One quantity field per returnable line (``qty_<line id>``), each capped at what may
    still be returned. The orders service checks all of it again.
    """

    reason = forms.CharField(
        label=_("Why are you returning these items?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, lines: Sequence[tuple[int, str, int]], **kwargs: Any) -> None:
        """``lines``: (order line id, label, quantity that may still be returned)."""
        super().__init__(*args, **kwargs)
        self.line_fields: list[tuple[str, int]] = []
        for line_id, label, returnable in lines:
            key = f"qty_{line_id}"
            self.fields[key] = forms.IntegerField(
                label=label, min_value=0, max_value=returnable, initial=0, required=False
            )
            self.line_fields.append((key, line_id))

    def line_bound_fields(self) -> Iterable[forms.BoundField]:
        return [self[key] for key, _line_id in self.line_fields]

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError(_("Tell us why you are returning the items."))
        return reason

    def chosen_lines(self) -> list[tuple[int, int]]:
        return [
            (line_id, self.cleaned_data.get(key) or 0)
            for key, line_id in self.line_fields
            if (self.cleaned_data.get(key) or 0) > 0
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not self.chosen_lines():
            raise forms.ValidationError(
                _("Choose at least one item and how many of it to return."), code="no_lines"
            )
        return data
