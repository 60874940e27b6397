"""Storefront forms of the cart and checkout: parsing only. The rules (quantities, phone
numbers, addresses, stock) live in ``checkout.domain`` and the services, whose refusals
the views turn into form errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from omnimall.checkout.domain import MAX_LINE_QUANTITY

QUANTITY_CHOICES = [(n, str(n)) for n in range(1, MAX_LINE_QUANTITY + 1)]


class AddToCartForm(forms.Form):
    sku = forms.CharField(max_length=64)
    quantity = forms.TypedChoiceField(choices=QUANTITY_CHOICES, coerce=int, initial=1)


class LineForm(forms.Form):
    quantity = forms.TypedChoiceField(choices=QUANTITY_CHOICES, coerce=int, required=False)
    remove = forms.BooleanField(required=False)


class CheckoutForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    email = forms.EmailField(label=_("Email"), max_length=254)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    delivery_method = forms.ChoiceField(
        label=_("Delivery"),
        choices=[("ship", _("Delivery to an address")), ("pickup", _("Pick up in store"))],
        initial="ship",
        widget=forms.RadioSelect,
    )
    saved_address = forms.TypedChoiceField(
        label=_("Saved address"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[],
        error_messages={
            "invalid_choice": _(
                "That address is no longer in your address book: choose another or a new one."
            )
        },
    )
    province = forms.CharField(label=_("Province"), max_length=40, required=False)
    city = forms.CharField(label=_("City"), max_length=40, required=False)
    district = forms.CharField(label=_("District"), max_length=40, required=False)
    street = forms.CharField(label=_("Street address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    store_city = forms.CharField(label=_("Your city"), max_length=60, required=False)
    store = forms.CharField(label=_("Store"), max_length=40, required=False)
    points = forms.IntegerField(
        label=_("Points to use"), min_value=0, max_value=2**31 - 1, required=False
    )

    def __init__(self, *args: Any, addresses: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.addresses = addresses or []
        field = self.fields["saved_address"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 (type narrowing)
        field.choices = [("", _("A new address"))] + [(a.pk, str(a)) for a in self.addresses]

    def contact(self) -> dict[str, str]:
        data = self.cleaned_data
        return {"name": data["name"], "email": data["email"], "phone": data["phone"]}

    def address(self) -> dict[str, str] | None:
        """The delivery address: a saved one, or the typed one (recipient = the contact)."""
        data = self.cleaned_data
        if data["delivery_method"] != "ship":
            return None
        chosen = data.get("saved_address")
        for saved in self.addresses:
            if saved.pk == chosen:
                return {
                    "name": saved.name,
                    "phone": saved.phone,
                    "province": saved.province,
                    "city": saved.city,
                    "district": saved.district,
                    "street": saved.street,
                    "postal_code": saved.postal_code,
                }
        fields = ("province", "city", "district", "street", "postal_code")
        return {
            "name": data["name"],
            "phone": data["phone"],
            **{f: data.get(f) or "" for f in fields},
        }

    # Where a service's ``details.errors`` key shows on this form.
    ERROR_FIELDS = {
        "contact.name": "name",
        "contact.email": "email",
        "contact.phone": "phone",
        "address.name": "name",
        "address.phone": "phone",
        "address.province": "province",
        "address.city": "city",
        "address.district": "district",
        "address.street": "street",
        "address.postal_code": "postal_code",
        "address": "street",
        "store": "store",
        "delivery_method": "delivery_method",
        "points": "points",
    }

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for key, problem in errors.items():
            field = self.ERROR_FIELDS.get(key)
            self.add_error(field if field in self.fields else None, _message(key, problem))


def _message(key: str, problem: str) -> str:
    if problem == "required":
        return str(_("This field is required."))
    if key.endswith("phone"):
        return str(_("Enter a mobile number (11 digits) or a landline with its area code."))
    if key.endswith("email"):
        return str(_("Enter a valid email address."))
    if key == "store":
        return str(_("Choose a store to pick up from."))
    if key.endswith("postal_code"):
        return str(_("A postal code has six digits."))
    return problem
