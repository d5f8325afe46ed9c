"""`autodl bundle CONFIG -o competition.zip`: a Codabench competition bundle;
`autodl bundle --check competition.zip`: check one (edited by hand, say) by the same rules."""

from __future__ import annotations

import argparse
import sys

from autodl.commands import UsageError

HELP = (
    "make a Codabench competition bundle (competition.yaml v2) from a challenge YAML, or check one"
)
DEFAULT_OUTPUT = "competition.zip"
DEFAULT_IMAGE = "autodl:cpu"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="the challenge YAML (see docs/challenge.md)")
    parser.add_argument(
        "--check",
        metavar="BUNDLE",
        help="check an existing bundle (a zip, read in place, or an unpacked folder) by the "
        "rules the export applies, and print its tasks, phases, columns and sizes; "
        "writes nothing",
    )
    parser.add_argument(
        "-o", "--output", default=None, help=f"the zip to write (default: {DEFAULT_OUTPUT})"
    )
    parser.add_argument(
        "--docker-image",
        "--docker_image",
        default=None,
        help="the image Codabench runs the programs in; it must hold the autodl package "
        f"and be pullable by the platform's workers (default: {DEFAULT_IMAGE})",
    )
    parser.add_argument(
        "--sample", help="the challenge submission used as the sample (default: the first)"
    )
    parser.add_argument("--start", help="the phase's start date, YYYY-MM-DD (default: today)")
    parser.epilog = (
        "exit status: 0 when the bundle was written (or, with --check, passes); 1 when "
        "--check finds problems (one line each, naming the field of competition.yaml and "
        "the file); 2 for a usage error: a missing file, a bad challenge YAML, or an "
        "export the rules refuse (nothing is written)."
    )


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def main(args: argparse.Namespace) -> int:
    if args.check is not None:
        given = [
            name
            for name, value in (
                ("CONFIG", args.config),
                ("-o", args.output),
                ("--docker-image", args.docker_image),
                ("--sample", args.sample),
                ("--start", args.start),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"error: --check takes a bundle alone, not {', '.join(given)}")
        return _check(args.check)
    if args.config is None:
        raise UsageError("error: give a challenge YAML (CONFIG), or --check BUNDLE")
    return _export(args)


def _export(args: argparse.Namespace) -> int:
    import datetime as dt

    from autodl.challenge.config import ConfigError
    from autodl.platforms.codabench.bundle import build_bundle
    from autodl.platforms.codabench.rules import BundleError
    from autodl.submission import SubmissionError

    start = None
    if args.start:
        try:
            start = dt.date.fromisoformat(args.start)
        except ValueError:
            print(f"autodl bundle: error: --start {args.start!r}: not YYYY-MM-DD", file=sys.stderr)
            return 2
    try:
        report = build_bundle(
            args.config,
            DEFAULT_OUTPUT if args.output is None else args.output,
            docker_image=DEFAULT_IMAGE if args.docker_image is None else args.docker_image,
            sample=args.sample,
            start=start,
            progress=lambda line: print(line, file=sys.stderr),
        )
    except (ConfigError, BundleError, SubmissionError, OSError) as e:
        print(f"autodl bundle: error: {e}", file=sys.stderr)
        return 2
    s = report.summary
    print(
        f"{report.path}: {_size(report.zip_bytes)} zipped, {s.tasks} task(s), "
        f"execution_time_limit {report.execution_time_limit} s, columns {', '.join(s.columns)}"
    )
    for name, size in s.files.items():
        print(f"  {_size(size):>9}  {name}")
    print(f"  {_size(s.total_bytes):>9}  in all (unzipped)")
    for w in report.warnings:
        print(f"autodl bundle: warning: {w}", file=sys.stderr)
    return 0


def _check(path: str) -> int:
    from pathlib import Path

    from autodl.platforms.codabench.rules import BundleError, check_bundle

    if not Path(path).exists():
        raise UsageError(f"error: {path}: no such bundle (a zip or an unpacked folder)")
    try:
        summary = check_bundle(path)
    except BundleError as e:
        for line in e.lines():
            print(f"autodl bundle: {line}", file=sys.stderr)
        print(f"autodl bundle: {path}: {len(e.problems)} problem(s)", file=sys.stderr)
        return 1
    zipped = Path(path).stat().st_size if Path(path).is_file() else None
    _print_summary(path, summary, zipped)
    for w in summary.warnings:
        print(f"autodl bundle: warning: {w}", file=sys.stderr)
    return 0


def _print_summary(path: str, summary, zipped: int | None) -> None:
    """The bundle's tasks, phases and columns, three small tables, and its sizes."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Names come from a hand-edited YAML: shown as text, never read as rich markup.
    console = Console(highlight=False, markup=False, soft_wrap=True)

    def table(heads: tuple[str, ...], rows: list[tuple[str, ...]]) -> Table:
        t = Table(*heads, box=None, pad_edge=False)
        for row in rows:
            t.add_row(*(Text(cell) for cell in row))
        return t

    console.print(
        f"{path}: passes ({summary.title!r}: {summary.tasks} task(s), {summary.phases} phase(s))"
    )
    rows = [(str(t.index), t.name, t.scoring, _size(t.bytes)) for t in summary.task_entries]
    console.print(table(("task", "name", "scoring", "size"), rows))
    rows = [
        (
            p.name,
            ", ".join(map(str, p.tasks)),
            p.start,
            p.end,
            "-" if p.execution_time_limit is None else f"{p.execution_time_limit} s",
        )
        for p in summary.phase_entries
    ]
    console.print(table(("phase", "tasks", "start", "end", "time limit"), rows))
    rows = list(summary.column_sources.items())
    console.print(table(("column", "in scores.json"), rows))
    sizes = f"{_size(summary.total_bytes)} unzipped"
    if zipped is not None:
        sizes = f"{_size(zipped)} zipped, " + sizes
    console.print(f"{sizes}, in {len(summary.files)} entries named by competition.yaml")
