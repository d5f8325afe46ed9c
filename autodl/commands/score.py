"""`autodl score`: score a prediction folder (NAUC per prediction, learning curve, ALC)."""

from __future__ import annotations

import argparse

HELP = "score a prediction folder: NAUC per prediction, learning curve and ALC (offline or live)"


def epilog() -> str:
    """Exit codes and outputs, from :mod:`autodl.protocol` (light: no NumPy)."""
    import textwrap

    from autodl import protocol
    from autodl.protocol import USAGE_EXIT_CODE, Status

    statuses = (
        Status.OK,
        Status.ERROR,
        Status.BAD_SOLUTION,
        Status.BAD_INPUT,
        Status.INGESTION_FAILED,
        Status.TIME_LIMIT_EXCEEDED,
    )
    lines = [f"{s.exit_code} {s.value}: {s.meaning}" for s in statuses]
    lines.insert(2, f"{USAGE_EXIT_CODE} usage error (nothing was run)")
    lines = [
        textwrap.fill(
            ln, 88, initial_indent="  ", subsequent_indent="      ", break_on_hyphens=False
        )
        for ln in lines
    ]
    files = (
        protocol.SCORES_TXT,
        protocol.SCORES_JSON,
        protocol.LEARNING_CURVE_JSON,
        protocol.learning_curve_png("<task>"),
        protocol.DETAILED_RESULTS_HTML,
    )
    outputs = (
        f"A scoring that ends writes {files[0]}, {files[1]} and {files[4]} into the score "
        f"folder, and {files[2]} and {files[3]} too once a prediction could be scored; when "
        f"scoring itself fails, {files[1]} alone (status error)."
    )
    return (
        f"exit codes (the status {protocol.SCORES_JSON} records):\n"
        + "\n".join(lines)
        + "\n"
        + textwrap.fill(outputs, 88, break_on_hyphens=False)
        + "\n"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from autodl.protocol import END_FILE, SCORES_JSON, SCORES_TXT, START_FILE
    from autodl.protocol.scores import COMPAT_RULES

    parser.epilog = epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--solution_dir",
        "--solution-dir",
        required=True,
        metavar="DIR",
        help="folder holding exactly one <task>.solution (or the .solution file itself)",
    )
    parser.add_argument(
        "--prediction_dir",
        "--prediction-dir",
        required=True,
        metavar="DIR",
        help=f"ingestion's output: {START_FILE}, <task>.predict_<k>, {END_FILE}",
    )
    parser.add_argument(
        "--score_dir",
        "--score-dir",
        required=True,
        metavar="DIR",
        help=f"where {SCORES_TXT}, {SCORES_JSON} and the pictures are written (created)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help=f"score live beside ingestion: poll, stop at {END_FILE}, end ingestion when "
        "start_time + time_budget passes",
    )
    parser.add_argument(
        "--time_budget",
        "--time-budget",
        type=float,
        default=None,
        metavar="S",
        help=f"time budget T in seconds (default: the one in {START_FILE})",
    )
    parser.add_argument(
        "--t0",
        type=float,
        default=None,
        metavar="S",
        help="t0 of the time rescaling log(1 + t/t0) / log(1 + T/t0) (default: scoring's "
        "DEFAULT_T0, 60 s as in 2019)",
    )
    parser.add_argument(
        "--compat",
        choices=COMPAT_RULES,
        default="autodl",
        help="autodl (default): predictions after the budget do not count in the ALC; "
        "2019: the 2019 program's number, which counts them past t~ = 1",
    )
    parser.add_argument(
        "--poll_interval",
        "--poll-interval",
        type=float,
        default=1.0,
        metavar="S",
        help="live: seconds between polls (default 1)",
    )
    parser.add_argument(
        "--start_timeout",
        "--start-timeout",
        type=float,
        default=1800.0,
        metavar="S",
        help=f"live: how long to wait for {START_FILE} (default 1800)",
    )
    parser.add_argument(
        "--kill_grace",
        "--kill-grace",
        type=float,
        default=0.0,
        metavar="S",
        help="live: extra seconds after the budget before ending ingestion (default 0)",
    )
    parser.add_argument(
        "--term_timeout",
        "--term-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="live: seconds between SIGTERM and SIGKILL when ending ingestion (default 5)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the bootstrap error bars (default 0)"
    )
    parser.add_argument(
        "--no_bootstrap",
        "--no-bootstrap",
        action="store_true",
        help="skip the bootstrap error bars (saves 5 NAUCs per prediction)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="log warnings only")


def main(args: argparse.Namespace) -> int:
    import logging
    import sys
    import traceback
    from pathlib import Path

    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s score: %(message)s",
        stream=sys.stderr,
    )
    from autodl.protocol import Status
    from autodl.scoring import DEFAULT_T0, score_folder, watch_folder

    options = dict(
        time_budget=args.time_budget,
        t0=DEFAULT_T0 if args.t0 is None else args.t0,
        seed=args.seed,
        bootstrap=not args.no_bootstrap,
        compat=args.compat,
    )
    try:
        if args.watch:
            result = watch_folder(
                args.solution_dir,
                args.prediction_dir,
                args.score_dir,
                **options,
                poll_interval=args.poll_interval,
                start_timeout=args.start_timeout,
                kill_grace=args.kill_grace,
                term_timeout=args.term_timeout,
            )
        else:
            result = score_folder(args.solution_dir, args.prediction_dir, args.score_dir, **options)
    except Exception as e:  # a bug of ours: say so in scores.json too, then fail loudly
        traceback.print_exc()
        try:
            from autodl import protocol

            Path(args.score_dir).mkdir(parents=True, exist_ok=True)
            protocol.write_scores_json(
                args.score_dir,
                {
                    "score": 0.0,
                    "alc": 0.0,
                    "status": str(Status.ERROR),
                    "error": f"scoring failed: {type(e).__name__}: {e}",
                },
            )
        except Exception:
            pass
        return Status.ERROR.exit_code
    # No task name when the solution could not be read: say which folder was scored.
    name = result.task_name or args.prediction_dir
    print(f"{name}: ALC {result.alc:.6f} ({result.status})")
    return result.exit_code
