"""Storefront forms of the cart and checkout: parsing only. The rules (quantities, phone
numbers, addresses, stock) live in ``checkout.domain`` and the services, whose refusals
the views turn into form errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from omnimall.checkout.domain import (
    MAX_LINE_QUANTITY,
    NOTE_MAX_LENGTH,
    POSTAL_CODE_RE,
    address_errors,
    clean_phone,
    is_valid_phone,
)
from omnimall.checkout.provinces import province_code
from omnimall.core.errors import DomainError

postal_code_validator = RegexValidator(POSTAL_CODE_RE, _("A postal code has 6 digits."))


def phone_validator(value: str) -> None:
    """The services' rule (``domain.is_valid_phone``), spaces allowed as people type them."""
    if not is_valid_phone(value):
        raise ValidationError(
            _("Enter a mobile number (11 digits) or a landline with its area code."),
            code="invalid",
        )


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
    province = forms.CharField(
        label=_("Province"),
        max_length=40,
        required=False,
        # The browser offers the province list (the ``province_datalist`` tag); any way
        # of writing one is recognised (``checkout.provinces``).
        widget=forms.TextInput(attrs={"list": "province-list", "autocomplete": "address-level1"}),
    )
    city = forms.CharField(label=_("City"), max_length=40, required=False)
    district = forms.CharField(label=_("District"), max_length=40, required=False)
    street = forms.CharField(label=_("Street address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    store_city = forms.CharField(label=_("Your city"), max_length=60, required=False)
    store = forms.CharField(label=_("Store"), max_length=40, required=False)
    points = forms.IntegerField(
        label=_("Points to use"), min_value=0, max_value=2**31 - 1, required=False
    )
    want_invoice = forms.BooleanField(label=_("I need an invoice (fapiao)"), required=False)
    save_address = forms.BooleanField(
        label=_("Save this address in my address book"), required=False, initial=True
    )
    note = forms.CharField(
        label=_("Note for us (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,  # the browser stops there; the service checks it again
        help_text=_("For example: call before delivering. At most 200 characters."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, addresses: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.addresses = addresses or []
        field = self.fields["saved_address"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 (type narrowing)
        field.choices = [("", _("A new address"))] + [(a.pk, str(a)) for a in self.addresses]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            self._add_delivery_errors()
        return data

    def _add_delivery_errors(self) -> None:
        """While the form itself refuses (a name or an email missing), the service, which
        checks the address, the phone number and the store, is not asked: name their
        problems now too (the same rules, ``checkout.domain``), so that the shopper fixes
        the whole form in one go rather than meeting new errors on the next submit."""
        method = self.data.get("delivery_method")
        if method == "pickup":
            if not str(self.data.get("store") or "").strip():
                self.add_service_errors({"store": "required: a store that offers pick-up"})
            return
        if method != "ship" or self.data.get("saved_address"):
            return
        fields = ("name", "phone", "province", "city", "district", "street", "postal_code")
        found = address_errors({f: str(self.data.get(f) or "") for f in fields})
        self.add_service_errors({f"address.{key}": problem for key, problem in found.items()})

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
        "note": "note",
    }

    def _saved_address_chosen(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return data.get("delivery_method") == "ship" and data.get("saved_address") is not None

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for key, problem in errors.items():
            field = self.ERROR_FIELDS.get(key)
            target = field if field in self.fields else None
            message = _message(key, problem)
            if key.startswith("address") and self._saved_address_chosen():
                # The typed address's fields are hidden: say it where the shopper looks.
                target = "saved_address"
                message = str(
                    _(
                        "This saved address is not complete or not valid: edit it in your "
                        "address book, or enter a new address."
                    )
                )
            # The contact's and the address's phone are one field: say it once.
            if message not in self.errors.get(target or NON_FIELD_ERRORS, []):
                self.add_error(target, message)

    def add_no_delivery_error(self, province: str) -> None:
        """The shop does not deliver to the address's province (``no_delivery_to_region``)."""
        target = "saved_address" if self._saved_address_chosen() else "province"
        self.add_error(
            target,
            _(
                "Sorry, we do not deliver to %(province)s. Choose another address, or pick "
                "up in store."
            )
            % {"province": province},
        )


def ship_to_province(data: Mapping[str, Any], addresses: Sequence[Any]) -> str | None:
    """The province delivery is priced for, from the checkout form's raw data (posted, or
    the initial values): the chosen saved address's, else the typed one; None for pick-up
    or while none is given."""
    if data.get("delivery_method", "ship") != "ship":
        return None
    chosen = data.get("saved_address")
    if chosen not in (None, ""):
        found = next((a for a in addresses if str(a.pk) == str(chosen)), None)
        return found.province if found is not None else None
    return str(data.get("province") or "").strip() or None


class InvoiceForm(forms.Form):
    """An invoice (fapiao) asked for: in checkout (prefix ``invoice``) and on the order page.

    The service (``orders.services.invoices.clean_invoice``) tidies and checks the values
    and fills in a personal invoice's title and the email from the order's contact; its
    refusals land on these fields (``add_service_errors``)."""

    kind = forms.ChoiceField(
        label=_("Invoice for"),
        choices=[("personal", _("Myself")), ("company", _("A company"))],
        initial="personal",
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label=_("Invoice title"),
        max_length=100,
        required=False,
        help_text=_("The company's full name; for yourself, your name (the default)."),
    )
    tax_id = forms.CharField(
        label=_("Taxpayer ID"),
        max_length=40,
        required=False,
        help_text=_("The company's Unified Social Credit Code (18 characters)."),
    )
    email = forms.EmailField(
        label=_("Send the invoice to"),
        max_length=254,
        required=False,
        help_text=_("Leave empty to use the order's email address."),
    )

    MESSAGES = {
        "kind": _("Choose who the invoice is for."),
        "title": _("Enter the invoice title: the company's full name, or your name."),
        "tax_id": _("Enter the company's taxpayer ID (统一社会信用代码, 18 characters)."),
        "email": _("Enter the email address the invoice goes to."),
    }

    def details(self) -> dict[str, str]:
        data = self.cleaned_data
        return {key: data.get(key) or "" for key in ("kind", "title", "tax_id", "email")}

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for key in errors:
            self.add_error(key if key in self.fields else None, self.MESSAGES.get(key, key))


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
    if key.endswith("province"):
        return str(_("Enter a province, region or municipality of China, e.g. 浙江省 or Zhejiang."))
    if key == "note":
        return str(
            _("Keep the note to %(limit)d characters, without special characters.")
            % {"limit": NOTE_MAX_LENGTH}
        )
    return problem


class RefusalOnFields(forms.Form):
    """A form over a service whose refusals name fields (``details.errors``)."""

    def add_refusal(self, refused: DomainError, message: str) -> None:
        """Show the service's refusal on each field it names, else ``message`` above the
        form."""
        problems = refused.details.get("errors")
        if not isinstance(problems, dict) or not problems:
            self.add_error(None, message)
            return
        for field, problem in problems.items():
            self.add_error(field if field in self.fields else None, str(problem))


class AddressForm(RefusalOnFields):
    """An address in the Chinese format (province, city, district, street): the address
    book's, an order's new delivery address on its page and in the back office."""

    name = forms.CharField(label=_("Recipient"), max_length=60)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    province = forms.CharField(
        label=_("Province"),
        max_length=40,
        widget=forms.TextInput(attrs={"list": "province-list", "autocomplete": "address-level1"}),
    )
    city = forms.CharField(label=_("City"), max_length=40)
    district = forms.CharField(label=_("District"), max_length=40)
    street = forms.CharField(label=_("Street address"), max_length=200)
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=10,
        required=False,
        validators=[postal_code_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_province(self) -> str:
        # Checkout prices delivery by the province's zone: it must name one we know.
        province = str(self.cleaned_data["province"])
        if province.strip() and province_code(province) is None:
            raise forms.ValidationError(
                _("Enter a province, region or municipality of China, e.g. 浙江省 or Zhejiang.")
            )
        return province

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key in ("name", "province", "city", "district", "street"):
            if key in data:
                data[key] = " ".join(str(data[key]).split())
                if not data[key]:
                    self.add_error(key, _("This field is required."))
        return data
