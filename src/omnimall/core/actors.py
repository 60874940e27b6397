"""Who did something: a staff user, an integration (API key), or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "user", "api_key", "system"
    id: int | None = None
    label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind="system", label=label)

    @classmethod
    def from_user(cls, user: Any) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(kind="anonymous", label="anonymous")
        return cls(kind="user", id=user.pk, label=user.get_username())
