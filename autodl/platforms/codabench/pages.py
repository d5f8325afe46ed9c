"""The text a Codabench bundle carries: its pages, the starting kit's README, the
programs' entry scripts and the logo.

Pages are markdown, filled from the challenge (datasets, budgets, t0) so they say what
this bundle does, not what some other challenge did.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskInfo:
    """One bundle task, as the pages describe it."""

    index: int
    name: str  # the challenge's dataset name
    task_name: str  # the task folder's name (<task>.data, <task>.solution)
    domain: str
    time_budget: float
    construction_budget: float | None
    t0: float
    train_examples: int | None
    test_examples: int | None
    classes: int | None


def _n(x: int | None) -> str:
    return "?" if x is None else str(x)


def _table(tasks: Sequence[TaskInfo]) -> str:
    rows = [
        "| task | domain | classes | train | test | time budget (s) | t0 (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in tasks:
        rows.append(
            f"| {t.name} | {t.domain} | {_n(t.classes)} | {_n(t.train_examples)} | "
            f"{_n(t.test_examples)} | {t.time_budget:g} | {t.t0:g} |"
        )
    return "\n".join(rows)


def overview(title: str, tasks: Sequence[TaskInfo], docker_image: str) -> str:
    return f"""# {title}

An AutoDL-style challenge: your code receives a dataset it has never seen and must learn
it under a time budget, predicting the test set as often as it likes along the way.
Every prediction counts: the score is the area under the learning curve (ALC), so a
submission that is good early beats one that is good only at the end.

Your submission is a zip with `model.py` at its root defining `class Model` with
`__init__(metadata)`, `train(dataset, remaining_time_budget)` and
`test(dataset, remaining_time_budget)` (or the `fit`/`predict` form of the `autodl`
harness). It runs on every task of the phase:

{_table(tasks)}

Submissions run in the Docker image `{docker_image}`, which holds the `autodl` harness:
the same ingestion and scoring as `autodl run` on your own machine. The starting kit
holds a sample submission and the commands to try one locally.
"""


def evaluation(tasks: Sequence[TaskInfo]) -> str:
    t0s = sorted({t.t0 for t in tasks})
    t0_text = ", ".join(f"{x:g}" for x in t0s)
    return f"""# Evaluation

For each task, ingestion runs your model for the task's time budget T and keeps every
prediction with the time it was made. Scoring computes, for each prediction, the
normalized AUC of the ROC (NAUC = 2 AUC - 1, averaged over the classes), and draws a
step curve of NAUC against time rescaled as log(1 + t/t0) / log(1 + T/t0)
(t0 = {t0_text} s). The task's score is the area under that curve, the **ALC**, between 0
and 1 (negative for predictions worse than chance).

The leaderboard shows, per task: the ALC (the ranking column), the NAUC of the last
prediction, the duration of ingestion and the number of predictions.

AutoDL ranked participants by their average rank over the tasks. Codabench's
leaderboard columns can only combine one submission's own scores, and a rank depends
on every other submission, so the average rank is not a column here; organizers compute
it from the exported results (`autodl leaderboard` ranks a results table the same way).

A run that ends early (a crash, the time budget spent) is scored on the predictions it
made. The time limit of a run on Codabench is the largest budget plus the construction
budget plus a margin; ingestion stops your model at its own budget first.
"""


def data(tasks: Sequence[TaskInfo]) -> str:
    return f"""# Data

Each task is an AutoDL dataset: TFRecord files with a `metadata.textproto` per split
(`<task>.data/train`, `<task>.data/test`). Your model sees the training examples with
their labels and the test examples without; the test labels (`<task>.solution`) reach
only the scoring program.

{_table(tasks)}

The datasets of the phase are not downloadable (make_input_data_available is off): your
code meets them only inside the platform, as in AutoDL. Public AutoDL datasets for
practice: `autodl datasets download NAME` and `autodl datasets list`.
"""


def terms(title: str) -> str:
    return f"""# Terms

By submitting to {title} you agree that:

- your submission is your own work, or you have the right to submit it;
- your code does not try to read the test labels, reach the network, or disturb the
  platform or other participants' runs;
- the organizers may run, inspect and publish the scores of your submission.

The organizers may disqualify a submission that breaks these terms.
"""


def starting_kit_readme(title: str, sample: str, tasks: Sequence[TaskInfo]) -> str:
    budgets = ", ".join(f"{t.name} {t.time_budget:g} s" for t in tasks)
    return f"""# Starting kit: {title}

- `sample_submission.zip`: a submission that runs (`{sample}`): `model.py` at the root,
  and a `metadata` file without a command, which tells Codabench's worker to leave the
  submission to the ingestion program.

Try a submission locally with the same harness as the platform (`pip install autodl`):

    autodl run --dataset digits --code sample_submission.zip --time-budget 60

Budgets of the tasks: {budgets}. Submit the zip on the competition's "My Submissions"
page.
"""


def submission_metadata() -> str:
    return (
        "# No command: Codabench's worker leaves this submission to the ingestion program,\n"
        "# which imports model.py.\n"
        "description: an AutoDL submission (model.py)\n"
    )


INGESTION_ENTRY = '''#!/usr/bin/env python3
"""AutoDL ingestion on Codabench (written by `autodl bundle`): `autodl ingest` with this
program's arguments, run inside the competition's docker image."""

import os
import signal
import subprocess
import sys

if os.getpid() == 1:
    # Codabench starts the container without an init, so this is its PID 1: the kernel
    # gives pid 1 no default signal actions and hands it every orphan. Stay a tiny init
    # that forwards signals, and run ingestion as its child.
    child = subprocess.Popen([sys.executable, *sys.argv])
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda n, _: child.send_signal(n))
    sys.exit(child.wait())
try:
    from autodl.cli import main
except ImportError:
    sys.exit("ingestion.py: the docker image has no 'autodl' package (pip install autodl)")
sys.exit(main(["ingest", *sys.argv[1:]]))
'''

SCORING_ENTRY = '''#!/usr/bin/env python3
"""AutoDL scoring on Codabench (written by `autodl bundle`): `autodl score` with this
program's arguments, run inside the competition's docker image.

A run that failed (a crash, a bad prediction) is still scored: scores.json records its
status, and this program exits 0 so that Codabench posts the scores. A non-zero exit
means scoring itself could not produce scores.json."""

import sys

try:
    from autodl.cli import main
    from autodl.protocol import ProtocolError, read_score_record
except ImportError:
    sys.exit("score.py: the docker image has no 'autodl' package (pip install autodl)")
rc = main(["score", *sys.argv[1:]])
out = sys.argv[sys.argv.index("--score_dir") + 1]
try:
    record = read_score_record(out)
except ProtocolError as e:
    print(f"score.py: no scores written ({e})", file=sys.stderr)
    sys.exit(rc or 1)
print(f"score.py: status {record.status}, alc {record.alc}")
sys.exit(0)
'''


def logo_png(size: int = 64) -> bytes:
    """A plain square PNG (the bundle's required ``image``), made without an image library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            # A rising diagonal: a learning curve, in two blues.
            row += bytes((40, 90, 160) if y > size - 1 - x else (220, 232, 245))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
