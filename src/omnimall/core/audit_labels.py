"""What an audit entry's action code says, in the staff member's language.

Codes are ``<subject>.<what happened>`` (``order.cancelled``, ``stock.safety_stock_set``,
``product.changed``), written once and kept for ever in English so integrations and
searches can rely on them. The back office shows them as "<subject> · <what happened>":
the subject is the model's own verbose name when the code names a model (every
``<model>.created / changed / deleted / imported`` of the audited admins), else one of
``SUBJECTS``; the rest is one of ``HAPPENINGS`` (in their own "audit" context: "created"
here is a deed, not the "created" column of a list). A part that is neither is shown as
written, so a new code is never hidden, only untranslated.
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

SUBJECTS = {
    "account": _("shopper account"),
    "api_key": _("API key"),
    "fulfilment": _("fulfilment request"),
    "orders": _("orders"),
    "outbox_message": _("outbox message"),
    "payment": _("payment"),
    "points": _("points"),
    "pos": _("store tills"),
    "return": _("return"),
    "stock": _("stock"),
}

HAPPENINGS = {
    "account_linked": pgettext_lazy("audit", "linked to a shop account"),
    "accepted": pgettext_lazy("audit", "accepted"),
    "address_changed": pgettext_lazy("audit", "delivery address changed"),
    "adjusted": pgettext_lazy("audit", "adjusted"),
    "adjustment": pgettext_lazy("audit", "adjusted"),
    "allocated_again": pgettext_lazy("audit", "allocated again"),
    "app_signed_in": pgettext_lazy("audit", "app signed in"),
    "app_signed_out": pgettext_lazy("audit", "app signed out"),
    "approved": pgettext_lazy("audit", "approved"),
    "attention_resolved": pgettext_lazy("audit", "dealt with"),
    "cancelled": pgettext_lazy("audit", "cancelled"),
    "captured_by_query": pgettext_lazy("audit", "found paid by a status query"),
    "changed": pgettext_lazy("audit", "changed"),
    "channel_safety_stock_set": pgettext_lazy("audit", "channel safety stock set"),
    "collector_cleared": pgettext_lazy("audit", "collector removed"),
    "collector_set": pgettext_lazy("audit", "collector named"),
    "count_correction": pgettext_lazy("audit", "count corrected"),
    "created": pgettext_lazy("audit", "created"),
    "deactivated": pgettext_lazy("audit", "deactivated"),
    "deleted": pgettext_lazy("audit", "deleted"),
    "delivered": pgettext_lazy("audit", "delivered"),
    "dispatched": pgettext_lazy("audit", "dispatched"),
    "email_resent": pgettext_lazy("audit", "email sent again"),
    "enrolled": pgettext_lazy("audit", "enrolled"),
    "exported": pgettext_lazy("audit", "exported"),
    "file_imported": pgettext_lazy("audit", "file imported"),
    "flash_sale_disabled": pgettext_lazy("audit", "flash sale ended"),
    "flash_sale_enabled": pgettext_lazy("audit", "flash sale started"),
    "flash_sale_refilled": pgettext_lazy("audit", "flash sale refilled"),
    "imported": pgettext_lazy("audit", "imported"),
    "invoice_issued": pgettext_lazy("audit", "invoice issued"),
    "invoice_requested": pgettext_lazy("audit", "invoice requested"),
    "merged": pgettext_lazy("audit", "merged"),
    "merged_into": pgettext_lazy("audit", "merged into another"),
    "moved": pgettext_lazy("audit", "moved"),
    "note": pgettext_lazy("audit", "note added"),
    "note_added": pgettext_lazy("audit", "note added"),
    "partly_shipped": pgettext_lazy("audit", "partly shipped"),
    "picked_up": pgettext_lazy("audit", "picked up"),
    "pickup_kept": pgettext_lazy("audit", "pick-up kept longer"),
    "pickup_store_changed": pgettext_lazy("audit", "pick-up store changed"),
    "rate_set": pgettext_lazy("audit", "rate set"),
    "receipt": pgettext_lazy("audit", "received"),
    "receipt_recorded": pgettext_lazy("audit", "receipt recorded"),
    "receipt_resolved": pgettext_lazy("audit", "receipt resolved"),
    "received": pgettext_lazy("audit", "received"),
    "refund_failed": pgettext_lazy("audit", "refund failed"),
    "refunded": pgettext_lazy("audit", "refunded"),
    "rejected": pgettext_lazy("audit", "rejected"),
    "report_applied": pgettext_lazy("audit", "stock report applied"),
    "requested": pgettext_lazy("audit", "requested"),
    "retried": pgettext_lazy("audit", "sent again"),
    "return": pgettext_lazy("audit", "returned"),
    "reversal_shortfall": pgettext_lazy("audit", "points short at a reversal"),
    "safety_stock_set": pgettext_lazy("audit", "safety stock set"),
    "secret_rotated": pgettext_lazy("audit", "secret rotated"),
    "set": pgettext_lazy("audit", "set"),
    "shipped": pgettext_lazy("audit", "shipped"),
    "signed_up": pgettext_lazy("audit", "signed up"),
    "slip_printed": pgettext_lazy("audit", "packing slip printed"),
    "staff_changed": pgettext_lazy("audit", "staff changed"),
    "statement_imported": pgettext_lazy("audit", "statement imported"),
    "test_sent": pgettext_lazy("audit", "test sent"),
}


@functools.cache
def _model_names() -> dict[str, object]:
    """model_name → verbose name, for the subjects that are models."""
    return {str(model._meta.model_name): model._meta.verbose_name for model in apps.get_models()}


def action_label(code: str) -> str:
    """``order.cancelled`` → "Order · cancelled" (in the active language)."""
    subject, dot, happened = code.partition(".")
    if not dot:
        return str(HAPPENINGS.get(code, code))
    noun = SUBJECTS.get(subject) or _model_names().get(subject) or subject
    verb = HAPPENINGS.get(happened) or happened.replace("_", " ")
    return gettext("%(subject)s · %(happened)s") % {
        "subject": capfirst(str(noun)),
        "happened": str(verb),
    }
