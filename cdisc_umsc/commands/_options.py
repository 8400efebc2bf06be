"""Options several commands share, declared once (this module defines no command)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

#: the dataset file formats a command writes: SAS XPORT v5, Dataset-JSON 1.1, or both
DATASET_FORMATS = ("xpt", "json", "both")


def format_option(help: str = "Dataset file format.") -> Callable[[Any], Any]:
    """``--format xpt|json|both`` (default xpt), passed to the command as ``fmt``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(DATASET_FORMATS),
        default="xpt",
        show_default=True,
        help=help,
    )
