"""One module per ``autodl`` verb (see ``autodl/cli.py`` for the contract)."""

from __future__ import annotations

import argparse


class UsageError(Exception):
    """A bad command line (a flag, a missing file or folder named on it, an unwritable
    output): the dispatcher prints the message as one line and exits 2, no traceback."""


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """What the model's worker runs under, for ``ingest`` and ``run`` alike: its
    interpreter, the TensorFlow it sees, the decoded-cache limit of its datasets."""
    parser.add_argument(
        "--python",
        default=None,
        metavar="PYTHON",
        help="the interpreter the submission runs under: an environment's name from "
        "`autodl env list` (e.g. legacy), a virtual environment's folder or an "
        "interpreter's path; it needs only numpy, protobuf and google-crc32c, not autodl "
        "(docs/environments.md). Default: the one running autodl",
    )
    parser.add_argument(
        "--tf-mode",
        "--tf_mode",
        dest="tf_mode",
        choices=("auto", "1", "2"),
        default="auto",
        help="1: `import tensorflow` gives TF 1.x (tf.compat.v1, graph mode) for 2019 "
        "code; 2: TensorFlow as installed; auto (default): 1 when the code uses TF1-only "
        "names, unless its autodl.yaml says tf_mode (docs/legacy.md)",
    )
    parser.add_argument(
        "--cache-limit",
        "--cache_limit",
        dest="cache_limit",
        default=None,
        metavar="SIZE",
        help="bytes of decoded examples the model's datasets keep, e.g. 2G; 0 keeps none "
        "(default: $AUTODL_CACHE_LIMIT, else 4G or a quarter of its memory, if less); "
        "past it the rest is decoded on every read (docs/data.md)",
    )
