"""What every API's input schemas share.

A schema class's name is its component name in the OpenAPI document, where Ninja lets a
later class overwrite an earlier one of the same name: name each class for its app's use
(``GoodsReceiptIn``, ``OrderShipmentOut``), unique across ``/api/v1/``
(``tests/core/test_openapi.py`` checks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import AwareDatetime, BeforeValidator, ConfigDict


class StrictIn(Schema):
    """An input body that refuses unknown fields (422): a misspelt field name must not be
    silently ignored, as ``line_ids`` for ``lines`` once shipped every line of a request."""

    model_config = ConfigDict(extra="forbid")


def text_or_datetime(value: object) -> object:
    # Pydantic would read a JSON number as a Unix time (5 was 1970-01-01T00:00:05Z).
    if not isinstance(value, str | datetime):
        raise ValueError("give a date and time as text, e.g. 2026-11-27T10:30:00+08:00")
    return value


# A time in a request body, as the OpenAPI document says (``format: date-time``, RFC 3339):
# text with its UTC offset. A number, a date alone or a time without offset is 422.
JsonDateTime = Annotated[AwareDatetime, BeforeValidator(text_or_datetime)]
