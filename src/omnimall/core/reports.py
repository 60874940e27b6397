"""What the back office's reports share: the From/To period form and safe CSV cells.

The store credit report (``orders.admin.credit``), the cancellations report
(``orders.admin.cancellations``) and the takings by payment method (``pos.admin.takings``)
ask for a period the same way and export the same kind of CSV.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.days import EARLIEST, LATEST


class PeriodForm(forms.Form):
    """A period of whole days, From and To both included, within ``core.days``' range.

    ``max_days`` bounds To − From: a report that reads more per day sets a shorter bound
    and says so in ``too_long_message``."""

    max_days: ClassVar[int] = 366 * 3

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if not (start and end):
            return data
        if not (start >= EARLIEST and end <= LATEST):  # also keeps day + 1 a valid date
            raise forms.ValidationError(
                gettext("Choose dates from %(first)s to %(last)s.")
                % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
            )
        if end < start:
            raise forms.ValidationError(gettext("The end date is before the start date."))
        if (end - start).days > self.max_days:
            raise forms.ValidationError(self.too_long_message())
        return data

    def too_long_message(self) -> str:
        return gettext("Choose a range of at most three years.")


if TYPE_CHECKING:
    from django.http import HttpRequest


def period_asked(request: HttpRequest, *, default_days: int) -> tuple[PeriodForm, date, date]:
    """The period in the query string (``start``, ``end``), else the last ``default_days``
    days to today (also when the dates given are wrong: the form shows why)."""
    today = timezone.localdate()
    default = {"start": today - timedelta(days=default_days - 1), "end": today}
    given = "start" in request.GET or "end" in request.GET
    form = PeriodForm(request.GET if given else None, initial=default)
    if given and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, default["start"], default["end"]


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of ``start`` to the start of the day after ``end``, in the shop's
    time zone: both days included."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


# What makes a spreadsheet read a cell as a formula (OWASP's list: a leading tab or
# carriage return is stripped by some programs, exposing what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in FORMULA_STARTS and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
