"""Back office for members: the member 360 view, tiers and earning rules (``members``),
the points ledger, holds and the liability report (``points``), partners (``partners``)."""

from . import members, partners, points  # noqa: F401  (registers the ModelAdmins)
