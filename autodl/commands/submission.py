"""`autodl submission`: pack a submission folder into a zip, or check a zip."""

from __future__ import annotations

import argparse
import sys

HELP = "pack a submission folder into a zip (model.py at the root), or check a zip"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("pack", help="zip DIR with model.py at the root, after checks")
    p.add_argument("src", metavar="DIR", help="the submission folder (holds model.py)")
    p.add_argument("-o", "--output", required=True, metavar="ZIP", help="the zip to write")
    p.add_argument("--max-mb", type=float, default=None, help="size limit in MiB (default: 300)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not list the files")
    c = sub.add_parser("check", help="check a zip (or folder) as ingestion would")
    c.add_argument("path", metavar="ZIP", help="a submission zip or folder")
    c.add_argument("--max-mb", type=float, default=None, help="size limit in MiB (default: 300)")


def _max_bytes(args: argparse.Namespace, default: int) -> int:
    return default if args.max_mb is None else int(args.max_mb * 1024 * 1024)


def main(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from autodl import submission

    limit = _max_bytes(args, submission.DEFAULT_MAX_BYTES)
    try:
        if args.action == "pack":
            result = submission.pack(args.src, args.output, max_bytes=limit)
            if not args.quiet:
                for f in result.files:
                    print(f"  {f.size:>12,d}  {f.name}")
            print(
                f"wrote {result.path}: {len(result.files)} files, "
                f"{result.total_bytes:,d} bytes ({result.zip_bytes:,d} zipped)"
            )
            return 0
        with tempfile.TemporaryDirectory(prefix="autodl-check-") as tmp:
            code = submission.resolve_code(args.path, tmp, max_bytes=limit)
            names = sorted(
                p.relative_to(code).as_posix() for p in Path(code).rglob("*") if p.is_file()
            )
        for name in names:
            print(f"  {name}")
        print(f"{args.path}: ok ({len(names)} files, model.py at the root)")
        return 0
    except (submission.SubmissionError, OSError) as e:
        print(f"autodl submission: {e}", file=sys.stderr)
        return 2
