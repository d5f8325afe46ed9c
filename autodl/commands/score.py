"""`autodl score`: score a prediction folder (NAUC per prediction, learning curve, ALC)."""

from __future__ import annotations

import argparse

HELP = "score a prediction folder: NAUC per prediction, learning curve and ALC (offline or live)"

EPILOG = """\
exit codes: 0 ok; 1 scorer error; 2 usage; 3 bad solution (nothing scored);
4 bad input (bad prediction file, start.txt missing/malformed, timestamps missing or out of
order, no prediction; scored from what is valid); 5 ingestion reported failure (end.txt);
6 live: the time budget passed before end.txt and ingestion was ended.
The score folder always gets scores.txt, scores.json, learning_curve.json,
learning-curve-<task>.png and detailed_results.html.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
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
        help="ingestion's output: start.txt, <task>.predict_<k>, end.txt",
    )
    parser.add_argument(
        "--score_dir",
        "--score-dir",
        required=True,
        metavar="DIR",
        help="where scores.txt, scores.json and the pictures are written (created)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="score live beside ingestion: poll, stop at end.txt, end ingestion when "
        "start_time + time_budget passes",
    )
    parser.add_argument(
        "--time_budget",
        "--time-budget",
        type=float,
        default=None,
        metavar="S",
        help="time budget T in seconds (default: the one in start.txt)",
    )
    parser.add_argument(
        "--t0",
        type=float,
        default=60.0,
        metavar="S",
        help="t0 of the time rescaling log(1 + t/t0) / log(1 + T/t0) (default 60)",
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
        help="live: how long to wait for start.txt (default 1800)",
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
    from autodl.scoring import scorer

    options = dict(
        time_budget=args.time_budget, t0=args.t0, seed=args.seed, bootstrap=not args.no_bootstrap
    )
    try:
        if args.watch:
            result = scorer.watch_folder(
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
            result = scorer.score_folder(
                args.solution_dir, args.prediction_dir, args.score_dir, **options
            )
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
                    "status": scorer.ERROR,
                    "error": f"scoring failed: {type(e).__name__}: {e}",
                },
            )
        except Exception:
            pass
        return scorer.EXIT_CODES[scorer.ERROR]
    print(f"{result.task_name}: ALC {result.alc:.6f} ({result.status})")
    return result.exit_code
