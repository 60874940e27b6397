"""Member centre: convert brand points into a partner's points (outbound transfers).

The page lists the partners taking points today with their rate, a form (partner,
points, the member's account number at the partner) and the member's recent transfers.
The form carries a transaction id made when the page was shown, so submitting twice
makes one transfer. A quote (HTMX fragment) shows what the partner credits before the
member submits; the server computes it again on submit.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.members.models import Member
from omnimall.members.selectors.members import member_for_user

from . import domain, outbound, sandbox, selectors

MEMBER_CENTRE_PATH = "/account/member/"
MAX_POINTS = 10**9


class ExchangeForm(forms.Form):
    partner = forms.TypedChoiceField(label=gettext_lazy("Partner"), coerce=int)
    brand_points = forms.IntegerField(
        label=gettext_lazy("Points to convert"), min_value=1, max_value=MAX_POINTS
    )
    partner_account = forms.CharField(
        label=gettext_lazy("Your membership number at the partner"),
        max_length=64,
        required=False,
    )
    transaction_id = forms.RegexField(
        regex=r"^OM[0-9a-f]{30}$", widget=forms.HiddenInput, max_length=64
    )

    def __init__(self, *args: Any, offers: list[selectors.PartnerOffer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(offer.partner_id, offer.name) for offer in offers]
        self.fields["partner"].choices = choices  # type: ignore[attr-defined]


def _member(request: HttpRequest) -> Member | None:
    return member_for_user(getattr(request.user, "pk", None))


def _context(
    request: HttpRequest, member: Member, offers: list[selectors.PartnerOffer], form: ExchangeForm
) -> dict[str, Any]:
    return {
        "member": member,
        "offers": offers,
        "form": form,
        "transfers": selectors.member_transfers(member_id=member.pk),
        "member_centre_url": MEMBER_CENTRE_PATH,
        # The demo's sandbox partner: a link to play it (it answers the transfers).
        "sandbox_console_url": (
            reverse("sandbox_partner:console")
            if sandbox.enabled() and any(offer.code == sandbox.CODE for offer in offers)
            else ""
        ),
    }


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def exchange(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if member is None:
        context = {"member": None, "member_centre_url": MEMBER_CENTRE_PATH}
        return render(request, "members/partners/exchange.html", context)
    offers = selectors.outbound_offers(day=timezone.localdate())
    if request.method == "POST":
        form = ExchangeForm(request.POST, offers=offers)
        if form.is_valid():
            data = form.cleaned_data
            try:
                outcome = outbound.request_outbound_transfer(
                    member_id=member.pk,
                    partner_id=data["partner"],
                    brand_points=data["brand_points"],
                    transaction_id=data["transaction_id"],
                    partner_account=data["partner_account"],
                    actor=Actor.from_user(request.user),
                )
            except DomainError as refused:
                form.add_error(None, _refusal_text(refused))
            else:
                transfer = outcome.transfer
                messages.success(
                    request,
                    _(
                        "%(brand)d points set aside for %(partner_points)d %(partner)s points. "
                        "They are sent when %(partner)s confirms."
                    )
                    % {
                        "brand": transfer.brand_points,
                        "partner_points": transfer.partner_points,
                        "partner": transfer.partner.name,
                    },
                )
                return redirect("member_exchange:exchange")
    else:
        form = ExchangeForm(
            offers=offers, initial={"transaction_id": outbound.new_transaction_id()}
        )
    return render(
        request, "members/partners/exchange.html", _context(request, member, offers, form)
    )


def _refusal_text(refused: DomainError) -> str:
    texts = {
        "insufficient_points": _("You do not have that many points available."),
        "daily_limit_exceeded": _("That would exceed today's limit for this partner."),
        "too_few_points": _("Too few points for one partner point."),
        "no_rate": _("This partner does not take points today."),
        "partner_unavailable": _("This partner does not take points today."),
        "transfer_conflict": _("This form was already used; please start again."),
    }
    return texts.get(refused.code, _("The conversion could not be made."))


@require_GET
@never_cache
@login_required
def quote(request: HttpRequest) -> HttpResponse:
    """HTMX fragment: what the chosen partner credits for the points typed."""
    today = timezone.localdate()
    offers = {offer.partner_id: offer for offer in selectors.outbound_offers(day=today)}
    raw_partner = request.GET.get("partner", "")
    raw_points = request.GET.get("brand_points", "")
    offer = offers.get(int(raw_partner)) if raw_partner.isdigit() else None
    points = int(raw_points) if raw_points.isdigit() and len(raw_points) <= 10 else 0
    result = domain.outbound_quote(points, offer.rate) if offer is not None else None
    return render(request, "members/partners/_quote.html", {"offer": offer, "quote": result})
