"""Order timeline texts: written in English, shown in the reader's language.

A text that carries figures (an amount, a SKU or location code, a return number, what
someone typed) cannot be a catalogue entry once the figures are in it. So a service
writes it as a ``Text``: an English template with named placeholders, marked with
``gettext_noop`` where it is written (so ``makemessages`` finds it), and its parameters::

    text(gettext_noop("shipped with %(carrier)s %(tracking)s"), carrier=c, tracking=t)

``timeline.add_event`` keeps the English rendering in ``OrderEvent.message`` (what the
API, the audit trail, integrations and older code read, unchanged) and the template with
its parameters in ``OrderEvent.message_text``. ``event_text`` renders it again in the
active language: the template through ``gettext``, each parameter as stored, except a
parameter that is itself a ``Text`` (a reason the system wrote, a state), which is
translated the same way. A fixed text (no parameters) is stored as its message alone and
translated by ``gettext``. An event written before templates were stored, or one whose
template (or its translation) does not fit its parameters, shows its stored message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from omnimall.orders.models import OrderEvent, OrderState


@dataclass(frozen=True, slots=True)
class Text:
    """An English template and its parameters: strings, or texts to translate too."""

    template: str
    params: Mapping[str, str | Text] = field(default_factory=dict)

    def __str__(self) -> str:
        """In English: the stored message, and what the gateway and audit trail get."""
        return _render(self.stored(), _untranslated)

    def stored(self) -> dict[str, Any]:
        """As kept in ``OrderEvent.message_text``: JSON, a nested text a dict of this shape."""
        return {
            "template": self.template,
            "params": {
                name: value.stored() if isinstance(value, Text) else value
                for name, value in self.params.items()
            },
        }


def text(template: str, /, **params: object) -> Text:
    """``template`` (an English literal marked with ``gettext_noop``) with ``params``: a
    ``Text`` stays one (translated when shown), anything else is kept as its string."""
    return Text(
        template,
        {name: value if isinstance(value, Text) else str(value) for name, value in params.items()},
    )


def state_text(state: str) -> str | Text:
    """An order state as a text: its label's English msgid (whatever language the request
    that writes it runs in), shown as the label in the reader's language."""
    if state not in OrderState.values:
        return state
    with translation.override(None):  # no catalogue: the lazy label gives back its msgid
        return Text(str(OrderState(state).label))


def event_text(event: OrderEvent) -> str:
    """What the timeline shows for ``event`` in the active language; never raises."""
    stored = event.message_text
    if stored:
        try:
            return _render(stored, gettext)
        except (KeyError, TypeError, ValueError, RecursionError):
            # A catalogue entry with a placeholder the template does not have, a stray
            # "%", a damaged row: the English the service wrote is better than nothing.
            return event.message
    # Fixed texts, typed notes, and events from before templates were stored.
    return gettext(event.message)


def _untranslated(template: str) -> str:
    return template


def _render(stored: object, translate: Callable[[str], str]) -> str:
    """``stored`` (``Text.stored()``'s shape) in the language ``translate`` gives; raises
    KeyError / TypeError / ValueError when it does not fit."""
    if not isinstance(stored, dict):
        raise TypeError("a stored text is a dict")
    template, params = stored.get("template"), stored.get("params", {})
    if not isinstance(template, str) or not isinstance(params, dict):
        raise TypeError("a stored text has a template and a dict of params")
    values = {
        name: _render(value, translate) if isinstance(value, dict) else str(value)
        for name, value in params.items()
    }
    return translate(template) % values
