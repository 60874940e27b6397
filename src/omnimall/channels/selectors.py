from __future__ import annotations

from .models import SalesChannel


def get_channel_id(code: str) -> int | None:
    return SalesChannel.objects.filter(code=code).values_list("id", flat=True).first()
