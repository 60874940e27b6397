"""What every API's input schemas share."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class StrictIn(Schema):
    """An input body that refuses unknown fields (422): a misspelt field name must not be
    silently ignored, as ``line_ids`` for ``lines`` once shipped every line of a request."""

    model_config = ConfigDict(extra="forbid")
