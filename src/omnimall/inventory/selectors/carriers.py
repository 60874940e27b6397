"""Which carrier a shipment's free-text carrier names, and the link to follow the parcel.

Warehouses and stores report each shipment's carrier as they name it ("SF", "顺丰",
"SF Express", "sf-express"); the back office's carriers say how shoppers should read it.
Matching ignores case, spaces, dots and hyphens. An unmatched name is shown as reported,
without a link: a new carrier ships before staff add it, and nothing is refused for that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from django.utils import translation

from omnimall.inventory.models import Carrier

_IGNORED = re.compile(r"[\s.\-_·]+")


@dataclass(frozen=True, slots=True)
class CarrierLabel:
    """How a shipment's carrier reads: its name in the reader's language and the tracking
    link (empty when the carrier is unknown or has no tracking page)."""

    name_en: str
    name_zh: str
    tracking_url: str

    @property
    def name(self) -> str:
        language = translation.get_language() or ""
        return self.name_zh if language.startswith("zh") else self.name_en


def _key(text: str) -> str:
    return _IGNORED.sub("", text).casefold()


def carrier_index() -> dict[str, Carrier]:
    """Every known carrier under each of its names (one query: a few dozen rows at most)."""
    index: dict[str, Carrier] = {}
    for carrier in Carrier.objects.all():
        for name in (carrier.code, carrier.name_en, carrier.name_zh, *carrier.aliases.split(",")):
            if _key(name):
                index.setdefault(_key(name), carrier)
    return index


def label_for(reported: str, tracking_number: str, index: dict[str, Carrier]) -> CarrierLabel:
    """The label of a shipment reported with carrier ``reported``."""
    carrier = index.get(_key(reported))
    if carrier is None:
        return CarrierLabel(name_en=reported, name_zh=reported, tracking_url="")
    url = ""
    if carrier.tracking_url and tracking_number:
        url = carrier.tracking_url.replace("{number}", quote(tracking_number, safe=""))
    return CarrierLabel(name_en=carrier.name_en, name_zh=carrier.name_zh, tracking_url=url)
