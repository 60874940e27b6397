"""Reads of members and points: ``members`` (identity, 360) and ``points`` (ledger)."""
