"""What every API's input schemas share.

A schema class's name is its component name in the OpenAPI document, where Ninja lets a
later class overwrite an earlier one of the same name: name each class for its app's use
(``GoodsReceiptIn``, ``OrderShipmentOut``), unique across ``/api/v1/``
(``tests/core/test_openapi.py`` checks).
"""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class StrictIn(Schema):
    """An input body that refuses unknown fields (422): a misspelt field name must not be
    silently ignored, as ``line_ids`` for ``lines`` once shipped every line of a request."""

    model_config = ConfigDict(extra="forbid")
