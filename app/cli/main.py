"""The `digit-studio` command: train, evaluate and serve."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import evaluate, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digit-studio", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train.add_parser(sub)
    evaluate.add_parser(sub)
    try:
        from . import serve
    except ImportError:  # the server is optional for the training tools
        pass
    else:
        serve.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.raw_argv = argv
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
