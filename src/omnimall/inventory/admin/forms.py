"""Forms of the stock back office. They parse and check input; the services decide."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from omnimall.catalog.selectors import sku_ids_by_code_or_barcode
from omnimall.inventory.domain import MAX_UNITS
from omnimall.inventory.models import MovementKind, StockLocation

from .scope import LocationScope

MAX_TRANSFER_LINES = 500
LINE_PATTERN = re.compile(r"^\s*(?P<code>[^\s,;\t]+)\s*[\s,;\t]\s*(?P<qty>[+-]?\d+)\s*$")


class LocationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj.name_en} ({obj.city})"


def _units_field(**kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        validators=[MinValueValidator(-MAX_UNITS), MaxValueValidator(MAX_UNITS)], **kwargs
    )


class AdjustmentForm(forms.Form):
    location = LocationChoiceField(label=_("location"), queryset=StockLocation.objects.none())
    sku = forms.CharField(label=_("SKU code or barcode"), max_length=64)
    quantity = _units_field(
        label=_("quantity"), help_text=_("Signed: 3 adds three units, -2 removes two.")
    )
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[
            (MovementKind.ADJUSTMENT, MovementKind.ADJUSTMENT.label),
            (MovementKind.COUNT_CORRECTION, MovementKind.COUNT_CORRECTION.label),
        ],
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Required. Kept on the movement and in the audit trail."),
    )
    reference = forms.CharField(label=_("reference"), max_length=120, required=False)

    def __init__(self, *args: Any, scope: LocationScope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = scope.locations()  # type: ignore[attr-defined]

    def clean_sku(self) -> int:
        typed = self.cleaned_data["sku"].strip()
        sku_id = sku_ids_by_code_or_barcode({typed}).get(typed)
        if sku_id is None:
            raise forms.ValidationError(_("No SKU has this code or barcode."))
        return sku_id

    def clean_quantity(self) -> int:
        quantity: int = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("Enter a number of units other than 0."))
        return quantity

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the stock changes."))
        return str(reason)


class SafetyStockForm(forms.Form):
    safety_stock = forms.IntegerField(
        label=_("safety stock"),
        validators=[MinValueValidator(0), MaxValueValidator(MAX_UNITS)],
        help_text=_("Units kept back from online sale at this location."),
    )


class FlashSaleForm(forms.Form):
    buckets = forms.IntegerField(
        label=_("buckets"),
        initial=8,
        validators=[MinValueValidator(2), MaxValueValidator(64)],
        help_text=_("Sub-buckets the sellable units are split into (more buyers at once)."),
    )


class CancelTransferForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the transfer is cancelled."))
        return str(reason)


class TransferForm(forms.Form):
    source = LocationChoiceField(label=_("from"), queryset=StockLocation.objects.none())
    destination = LocationChoiceField(label=_("to"), queryset=StockLocation.objects.none())
    lines = forms.CharField(
        label=_("lines"),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text=_(
            "One line per SKU: its code (or barcode) and the units, e.g. “TEE-BLK-M 12”. "
            "Pasting two columns from a spreadsheet works too."
        ),
    )
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )

    def __init__(self, *args: Any, scope: LocationScope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        active = StockLocation.objects.filter(is_active=True)
        self.fields["source"].queryset = active  # type: ignore[attr-defined]
        self.fields["destination"].queryset = active  # type: ignore[attr-defined]

    def clean_lines(self) -> list[tuple[int, int]]:
        parsed: list[tuple[str, int]] = []
        errors: list[str] = []
        raw_lines = [line for line in self.cleaned_data["lines"].splitlines() if line.strip()]
        if len(raw_lines) > MAX_TRANSFER_LINES:
            raise forms.ValidationError(
                _("At most %(n)d lines per transfer.") % {"n": MAX_TRANSFER_LINES}
            )
        for number, line in enumerate(raw_lines, start=1):
            match = LINE_PATTERN.match(line)
            if match is None:
                errors.append(_("Line %(n)d: write a SKU code and a number.") % {"n": number})
                continue
            quantity = int(match["qty"])
            if not 0 < quantity <= MAX_UNITS:
                errors.append(_("Line %(n)d: the units must be positive.") % {"n": number})
                continue
            parsed.append((match["code"], quantity))
        found = sku_ids_by_code_or_barcode({code for code, _qty in parsed})
        errors.extend(
            _("Unknown SKU “%(code)s”.") % {"code": code}
            for code, _qty in parsed
            if code not in found
        )
        if errors:
            raise forms.ValidationError(errors)
        totals: dict[int, int] = {}
        for code, quantity in parsed:  # the same SKU twice: one line with the sum
            totals[found[code]] = totals.get(found[code], 0) + quantity
        if not totals:
            raise forms.ValidationError(_("List at least one SKU."))
        return list(totals.items())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source is not None and destination is not None:
            if source.pk == destination.pk:
                self.add_error("destination", _("Choose a location other than the source."))
            elif not (self.scope.allows(source.pk) or self.scope.allows(destination.pk)):
                raise forms.ValidationError(
                    _("You may only create transfers from or to a location you work at.")
                )
        return cleaned
