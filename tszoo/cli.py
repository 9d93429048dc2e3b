"""The ``tszoo`` command (also ``python -m tszoo``).

Bad input ends in one line naming the problem, no traceback, and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def cmd_list(args):
    from tszoo.registry import info, list_models, versions

    models = list_models()
    if not models:
        print("no published models found")
        return 0
    print(f"{'name':<14} {'versions':<10} {'output':<8} description")
    for name in models:
        card = info(name)
        print(f"{name:<14} {','.join(map(str, versions(name))):<10} {card.get('output_size', ''):<8} "
              f"{card.get('description', '').split(':')[0]}")
    return 0


def cmd_info(args):
    from tszoo.registry import info

    card = info(args.name, args.version)
    if args.json:
        print(json.dumps(card, indent=2))
    else:
        from pathlib import Path
        print((Path(card["path"]) / "README.md").read_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tszoo", description="Pretrained time-series classification models.")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the published models").set_defaults(func=cmd_list)
    p = sub.add_parser("info", help="a model's card")
    p.add_argument("name")
    p.add_argument("--version", type=int, default=None)
    p.add_argument("--json", action="store_true", help="the card as JSON, with file hashes")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv=None) -> int:
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"tszoo {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
