"""Pages and endpoints of the orders app outside the Store API.

``/payments/notify/<gateway>/``: the gateway's asynchronous notification. The reply is the
bare word the gateway expects: ``success`` stops its retries, ``failure`` (a rejected
notification) lets it retry and leaves the rejection for staff in the notification log.
Never a 500: anything unexpected is logged and answered ``failure``.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from omnimall.orders.services import payment

logger = logging.getLogger(__name__)

MAX_PARAMS = 64


def _reply(word: str) -> HttpResponse:
    return HttpResponse(word, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def payment_notification(request: HttpRequest, gateway: str) -> HttpResponse:
    try:
        params = {key: request.POST.get(key, "") for key in list(request.POST.keys())[:MAX_PARAMS]}
        if not params:
            return _reply("failure")
        settled = payment.settle_notification(
            gateway=gateway[:30], params=params, remote_addr=request.META.get("REMOTE_ADDR")
        )
    except Exception:
        logger.exception("payment notification from %s could not be processed", gateway[:30])
        return _reply("failure")
    return _reply("success" if settled else "failure")
