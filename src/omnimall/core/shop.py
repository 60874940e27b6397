"""The shop's own name, as shoppers, staff and partners read it.

omnimall is the platform; the brand that runs it has its own name, in Latin letters and
often in Chinese too. Pages, emails, text messages, packing slips, the back office and the
gateway's payment page all take it from here, so one setting renames the shop everywhere.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def shop_name(language: str | None = None) -> str:
    """The shop's name in ``language`` (default: the active one): its Chinese name, where
    one is set, for Chinese readers; its name otherwise."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    if language.startswith("zh") and settings.SHOP_NAME_ZH:
        return settings.SHOP_NAME_ZH
    return settings.SHOP_NAME
