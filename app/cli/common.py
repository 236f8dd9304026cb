"""Helpers shared by the CLI commands: argument types and friendly failures."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"digit-studio: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def layer_sizes(text: str) -> list[int]:
    """Parse '16,16' into [16, 16]; '' or 'none' means no hidden layer."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: hidden sizes are whole numbers separated by commas, "
                                         "for example 16,16") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every hidden layer needs at least 1 neuron")
    return sizes
