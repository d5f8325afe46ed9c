"""`autodl datasets list|make|path`: the built-in sample datasets."""

from __future__ import annotations

import argparse
import sys

HELP = "list the built-in sample datasets, or write one as a task folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="name, domain and size of each built-in dataset")
    make = sub.add_parser("make", help="write a built-in dataset as the task folder DIR/NAME")
    make.add_argument("name", help="a name from `autodl datasets list`")
    make.add_argument("-o", "--output", default=".", help="folder to write into (default: .)")
    make.add_argument("--overwrite", action="store_true", help="replace an existing task")
    path = sub.add_parser("path", help="build NAME in the cache if needed and print its folder")
    path.add_argument("name")


def main(args: argparse.Namespace) -> int:
    from autodl.data import samples

    if args.action == "list":
        for name in samples.names():
            print(f"{name:<15} {samples.domain(name):<8} {samples.describe(name)}")
        return 0
    if args.name not in samples.names():
        print(
            f"autodl datasets: error: no built-in dataset {args.name!r} "
            f"(one of {', '.join(samples.names())})",
            file=sys.stderr,
        )
        return 2
    try:
        if args.action == "make":
            print(samples.make(args.name, args.output, overwrite=args.overwrite))
        else:
            print(samples.resolve(args.name))
    except FileExistsError as exc:
        print(f"autodl datasets: error: {exc} (use --overwrite)", file=sys.stderr)
        return 2
    return 0
