"""Forms of the orders app shared by the storefront's order page and the back office."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from omnimall.checkout.domain import MOBILE_RE, clean_phone
from omnimall.checkout.forms import RefusalOnFields
from omnimall.orders.services.collector import NAME_MAX_LENGTH


class CollectorForm(RefusalOnFields):
    """Who collects a pick-up instead of the shopper (``services.collector``)."""

    name = forms.CharField(label=_("Their name"), max_length=NAME_MAX_LENGTH)
    phone = forms.CharField(
        label=_("Their mobile"),
        max_length=20,
        help_text=_("We text them the store, the pick-up code and the date to collect it by."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def clean_phone(self) -> str:
        phone = clean_phone(self.cleaned_data["phone"])
        if not MOBILE_RE.match(phone):
            raise forms.ValidationError(_("Enter a mainland mobile number (11 digits)."))
        return phone
