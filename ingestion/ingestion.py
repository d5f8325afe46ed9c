#!/usr/bin/env python3
"""The AutoDL ingestion program for CodaLab and Codabench: a thin call of `autodl ingest`.

Accepts the reference flags (``--dataset_dir --output_dir --code_dir
--ingestion_program_dir --score_dir --time_budget``, dashed spellings too, and every
other `autodl ingest` option), the old positional form
``ingestion.py INPUT OUTPUT INGESTION_PROGRAM SUBMISSION_PROGRAM``, and no arguments at
all, which means the Codabench layout (/app/input_data, /app/output,
/app/ingested_program, /app/program). The `autodl` package must be installed in the
image that runs it (``pip install autodl``).
"""

from __future__ import annotations

import sys

CODABENCH = {
    "--dataset_dir": "/app/input_data",
    "--output_dir": "/app/output",
    "--code_dir": "/app/ingested_program",
    "--ingestion_program_dir": "/app/program",
}
POSITIONAL = ("--dataset_dir", "--output_dir", "--ingestion_program_dir", "--code_dir")


def to_ingest_args(argv: list[str]) -> list[str]:
    """`autodl ingest` arguments from this program's command line."""
    if not argv:
        return [x for pair in CODABENCH.items() for x in pair]
    if not any(a.startswith("-") for a in argv):
        if len(argv) > len(POSITIONAL):
            raise SystemExit(f"usage: {sys.argv[0]} INPUT OUTPUT INGESTION_PROGRAM SUBMISSION")
        return [x for flag, value in zip(POSITIONAL, argv, strict=False) for x in (flag, value)]
    return list(argv)


def main() -> int:
    try:
        from autodl.cli import main as autodl_main
    except ImportError:
        print(
            "ingestion.py: the 'autodl' package is not installed (pip install autodl)",
            file=sys.stderr,
        )
        return 2
    # Exit 0 once a status is recorded, as the 2019 program did: a platform may count a
    # non-zero ingestion as a failed submission, while its partial predictions still score.
    return autodl_main(["ingest", *to_ingest_args(sys.argv[1:]), "--allow-failures"])


if __name__ == "__main__":
    sys.exit(main())
