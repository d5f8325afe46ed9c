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
    download = sub.add_parser(
        "download", help="download public AutoDL datasets (the 24 of 2019) as task folders"
    )
    download.add_argument("names", nargs="+", metavar="NAME", help="e.g. Munster O1 (or 'all')")
    download.add_argument("-o", "--output", default="public_data", help="default: %(default)s")
    download.add_argument(
        "--mirror", help="base URL of a copy serving <Name>.data.zip and <Name>.solution.zip"
    )


def main(args: argparse.Namespace) -> int:
    from autodl.data import samples

    if args.action == "download":
        return _download(args)
    if args.action == "list":
        width = max(len(name) for name in samples.names())
        for name in samples.names():
            print(f"{name:<{width}} {samples.domain(name):<8} {samples.describe(name)}")
        return 0
    if args.name not in samples.names():
        print(
            f"autodl datasets: error: no built-in dataset {args.name!r} "
            f"(one of {', '.join(samples.names())})",
            file=sys.stderr,
        )
        return 2
    if args.action == "make":
        from pathlib import Path

        from autodl.commands import UsageError
        from autodl.commands.run import check_output

        out = check_output("-o", args.output)
        try:
            print(samples.make(args.name, out, overwrite=args.overwrite))
        except FileExistsError:
            raise UsageError(
                f"{Path(args.output) / args.name} exists; add --overwrite to replace it"
            ) from None
    else:
        print(samples.resolve(args.name))
    return 0


def _download(args: argparse.Namespace) -> int:
    """`autodl datasets download`: each dataset into OUTPUT/<Name>/, with a progress bar."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    from autodl.data import public
    from autodl.data.download import DownloadError, download_dataset

    wanted = public.names() if [n.lower() for n in args.names] == ["all"] else args.names
    try:
        datasets = [public.dataset(n) for n in wanted]
    except KeyError as e:
        print(f"autodl datasets: error: {e.args[0]}", file=sys.stderr)
        return 2
    if args.mirror and not args.mirror.startswith(("http://", "https://")):
        print(f"autodl datasets: error: --mirror {args.mirror!r}: not an http(s) URL",
              file=sys.stderr)  # fmt: skip
        return 2
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn())  # fmt: skip
    failed = 0
    with Progress(*columns, transient=True) as bar:
        bars: dict[str, int] = {}

        def progress(name: str, done: int, total: int | None) -> None:
            if name not in bars:
                bars[name] = bar.add_task(name, total=total)
            bar.update(bars[name], completed=done, total=total)

        for d in datasets:
            source = d.mirrored(args.mirror) if args.mirror else d
            try:
                folder = download_dataset(source, args.output, progress=progress)
            except (DownloadError, OSError) as e:
                print(f"autodl datasets: error: {d.name}: {e}", file=sys.stderr)
                failed += 1
                continue
            print(f"{d.name}: {folder}")
    return 1 if failed else 0
