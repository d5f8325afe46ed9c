"""`autodl inspect PATH`: domain, shapes, class balance, sizes and a picture of a task."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "summarise an AutoDL task (domain, shapes, class balance, sizes) and draw examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        help="a task folder, a <name>.data folder, a split folder, or a built-in dataset name",
    )
    parser.add_argument(
        "-o",
        "--picture",
        metavar="PNG",
        help="where to draw the examples (default: $AUTODL_HOME/inspect/<name>-inspect.png, "
        "i.e. under ~/.cache/autodl: never the current folder)",
    )
    parser.add_argument("--no-picture", action="store_true", help="print the summary only")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--max-examples", type=int, help="read at most N examples per split (default: all)"
    )


def main(args: argparse.Namespace) -> int:
    from autodl.data.errors import DataError
    from autodl.data.inspect import inspect_task, plot
    from autodl.data.samples import resolve

    try:
        summary = inspect_task(resolve(args.path), max_examples=args.max_examples)
    except (DataError, FileNotFoundError) as exc:
        print(f"autodl inspect: error: {exc}", file=sys.stderr)
        return 2
    picture = None
    if not args.no_picture:
        from autodl.commands.run import check_output, user_folder

        if args.picture:
            target = check_output("-o", args.picture, file=True)
        else:
            target = user_folder("inspect") / f"{summary.name}-inspect.png"
            target.parent.mkdir(parents=True, exist_ok=True)
        picture = plot(summary, target)
    if args.json:
        record = summary.to_dict()
        record["picture"] = str(picture) if picture else None
        print(json.dumps(record, indent=2))
    else:
        print(summary.to_text())
        if picture:
            print(f"picture     {picture}")
    return 0
