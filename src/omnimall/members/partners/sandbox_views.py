"""The sandbox partner's pages (it plays a bank's points mall; the shop's pages are
elsewhere): its console at ``/sandbox/partner/`` and the endpoint the shop's outbound
requests arrive at. Both answer 404 unless the sandbox partner is on (the demo)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from omnimall.core import outbox
from omnimall.core.api.errors import error_body
from omnimall.core.errors import DomainError

from . import sandbox

MAX_POINTS = 10**9
# The console shows the outcome of its last call once, after the redirect.
LAST_REPLY_KEY = "sandbox_partner_reply"


class SendPointsForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Member's mobile at the shop"), max_length=32)
    partner_points = forms.IntegerField(
        label=gettext_lazy("Bank points to convert"), min_value=1, max_value=MAX_POINTS
    )
    partner_account = forms.CharField(
        label=gettext_lazy("Bank rewards account"), max_length=64, required=False
    )


def _sandbox_on(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sandbox.enabled():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _shop_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _remember(request: HttpRequest, action: str, reply: sandbox.ShopReply) -> None:
    request.session[LAST_REPLY_KEY] = {
        "action": action,
        "status": reply.status,
        "ok": reply.ok,
        "body": reply.body,
        "error": reply.error,
    }


@csrf_exempt  # the shop's signed server-to-server call; the signature is the check
@_sandbox_on
@require_POST
def receive(request: HttpRequest) -> HttpResponse:
    try:
        row = sandbox.receive_request(
            body=request.body,
            signature_header=request.headers.get(outbox.SIGNATURE_HEADER, ""),
        )
    except DomainError as refused:
        body = error_body(refused.code, refused.message)
        return JsonResponse(body, status=refused.status)
    return JsonResponse({"received": row.transaction_id})


@never_cache
@_sandbox_on
@require_http_methods(["GET", "POST"])
def console(request: HttpRequest) -> HttpResponse:
    form = SendPointsForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "send":
            form = SendPointsForm(request.POST)
            if form.is_valid():
                reply = sandbox.send_points_in(
                    phone=form.cleaned_data["phone"],
                    partner_points=form.cleaned_data["partner_points"],
                    partner_account=form.cleaned_data["partner_account"],
                    shop_url=_shop_url(request),
                )
                _remember(request, "send", reply)
                return redirect("sandbox_partner:console")
        elif action in sandbox.ANSWERS:
            try:
                reply = sandbox.answer_request(
                    request_id=int(request.POST.get("request", "0") or 0),
                    answer=action,
                    shop_url=_shop_url(request),
                )
            except (ValueError, DomainError):
                raise Http404 from None
            _remember(request, action, reply)
            return redirect("sandbox_partner:console")
        else:
            return HttpResponse(_("Unknown action."), status=400, content_type="text/plain")
    context = {
        "form": form,
        "requests": sandbox.list_requests(),
        "reply": request.session.pop(LAST_REPLY_KEY, None),
        "partner_name": sandbox.NAME,
        "rates": sandbox.rates_today(),
    }
    return render(request, "members/partners/sandbox_console.html", context)
