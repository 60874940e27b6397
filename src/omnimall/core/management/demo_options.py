"""What the demo loaders' commands share (``load_demo``, ``load_demo_orders``): a count
that must be positive, the seed, the progress bar switch, and output that ``-v 0``
silences (``omnimall demo`` runs them quietly)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

DEFAULT_SEED = 2026


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def add_seed_and_progress(parser: CommandParser, *, makes: str) -> None:
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed: the same seed gives the same {makes}",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")


def output(command: BaseCommand, options: Mapping[str, Any]) -> Callable[[str], None]:
    """Writes to the command's stdout unless ``--verbosity 0``."""
    verbose = options["verbosity"] > 0

    def out(message: str) -> None:
        if verbose:
            command.stdout.write(message)

    return out


def progress(options: Mapping[str, Any]) -> bool:
    """A progress bar, unless ``--no-progress`` or ``--verbosity 0``."""
    return bool(options["verbosity"] > 0 and not options["no_progress"])
