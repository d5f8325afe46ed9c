#!/usr/bin/env python3
"""The AutoDL scoring program for CodaLab and Codabench: a thin call of `autodl score`.

Accepts the reference flags (``--solution_dir --prediction_dir --score_dir``, dashed
spellings too, and every other `autodl score` option such as ``--watch``), the CodaLab
positional form ``score.py INPUT OUTPUT`` (solution in INPUT/ref, predictions in
INPUT/res, scores into OUTPUT), and no arguments at all, which means the Codabench layout
(/app/input/ref, /app/input/res, /app/output). The `autodl` package must be installed in
the image that runs it (``pip install autodl``). Exit codes: see ``autodl score --help``.
"""

from __future__ import annotations

import os
import sys

CODABENCH = ("/app/input", "/app/output")


def to_score_args(argv: list[str]) -> list[str]:
    """`autodl score` arguments from this program's command line."""
    if not argv:
        argv = list(CODABENCH)
    if not any(a.startswith("-") for a in argv):
        if len(argv) != 2:
            raise SystemExit(f"usage: {sys.argv[0]} INPUT OUTPUT  (or the --solution_dir flags)")
        inp, out = argv
        return [
            "--solution_dir", os.path.join(inp, "ref"),
            "--prediction_dir", os.path.join(inp, "res"),
            "--score_dir", out,
        ]  # fmt: skip
    return list(argv)


def main() -> int:
    try:
        from autodl.cli import main as autodl_main
    except ImportError:
        print(
            "score.py: the `autodl` package is not installed (pip install autodl)", file=sys.stderr
        )
        return 1
    return autodl_main(["score", *to_score_args(sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())
