"""The sandbox gateway's payment page (it plays the bank; the shop's pages are elsewhere).

No card field exists anywhere: the page only offers Pay, Decline and Abandon. The
notification endpoint ``/payments/notify/<gateway>/`` belongs to the orders app.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from omnimall.payments.gateways import sandbox_bank

ACTIONS = {
    "pay": sandbox_bank.pay_trade,
    "decline": sandbox_bank.decline_trade,
    "abandon": sandbox_bank.abandon_trade,
}


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, trade_no: str) -> HttpResponse:
    try:
        trade = sandbox_bank.get_trade_page(trade_no)
    except sandbox_bank.SandboxTradeNotFoundError:
        return render(request, "payments/sandbox_missing.html", status=404)
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            return render(
                request,
                "payments/sandbox_pay.html",
                {"trade": trade, "bad_action": True},
                status=400,
            )
        if trade.open or action is sandbox_bank.abandon_trade:
            return HttpResponseRedirect(action(trade_no))
        # Already paid or closed: show its status instead of acting again.
    return render(request, "payments/sandbox_pay.html", {"trade": trade})
