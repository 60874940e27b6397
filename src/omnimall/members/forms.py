"""Forms of the member centre: parsing and validation only; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from omnimall.members.domain import InvalidPhoneError, normalise_phone


class PhoneForm(forms.Form):
    """The mobile number to link (a one-time code is sent to it)."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "138 0013 8000"}
        ),
    )

    def __init__(self, *args: Any, region: str = "CN", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"], region=self.region)
        except InvalidPhoneError:
            raise forms.ValidationError(
                _("Enter a mobile number, e.g. 138 0013 8000."), code="invalid_phone"
            ) from None


class CodeForm(forms.Form):
    """The 6-digit code from the text message."""

    phone = forms.CharField(widget=forms.HiddenInput, max_length=32)
    code = forms.CharField(
        label=_("Verification code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("The code has 6 digits."), code="invalid_code")
        return code


class PreferencesForm(forms.Form):
    """Marketing consent and the home store."""

    consent_sms = forms.BooleanField(label=_("Text messages about offers"), required=False)
    consent_email = forms.BooleanField(label=_("Emails about offers"), required=False)
    consent_wechat = forms.BooleanField(label=_("WeChat messages about offers"), required=False)
    home_store = forms.TypedChoiceField(
        label=_("Home store"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, stores: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["home_store"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
        field.choices = [("", _("No home store")), *stores]

    def consent(self) -> dict[str, bool]:
        return {
            "sms": bool(self.cleaned_data.get("consent_sms")),
            "email": bool(self.cleaned_data.get("consent_email")),
            "wechat": bool(self.cleaned_data.get("consent_wechat")),
        }
