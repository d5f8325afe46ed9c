"""The leaderboard: per-dataset ranks by ALC and the average rank over datasets.

As in the AutoDL challenges: on each dataset, submissions are ranked by ALC (higher is
better, rank 1 first); tied submissions share the mean of the ranks they span; a failed
or missing run ranks after every scored one (failed runs tie among themselves). A
submission's overall score is its mean rank over the datasets, lower is better.

>>> rank_values([0.8, 0.5, 0.8, None])
[1.5, 3.0, 1.5, 4.0]
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autodl.protocol import (
    CODALAB_DIR,
    CODALAB_SETS,
    LEADERBOARD_CSV,
    LEADERBOARD_HTML,
    SCORES_TXT,
    RunResult,
    atomic_write,
)

# The outputs of `autodl leaderboard`, beside results.csv.
# A run the leaderboard expected but nobody ran: a cell label, not a recorded status.
MISSING = "missing"

# Scores are compared at this many decimals: an ALC read back from a text file on another
# machine must tie with the same ALC computed here.
_DECIMALS = 10


def rank_values(values: Sequence[float | None]) -> list[float]:
    """Ranks (1 = best) of scores where higher is better; ties share their mean rank.

    ``None`` (a failed or missing run) ranks after every number; all ``None`` tie.
    The same as ``scipy.stats.rankdata`` of the negated scores with ``method='average'``
    once ``None`` is replaced by minus infinity.
    """
    keyed = [
        (-round(v, _DECIMALS) if v is not None else float("inf"), i) for i, v in enumerate(values)
    ]
    keyed.sort()
    ranks = [0.0] * len(values)
    start = 0
    while start < len(keyed):
        stop = start
        while stop + 1 < len(keyed) and keyed[stop + 1][0] == keyed[start][0]:
            stop += 1
        # Positions start..stop (0-based) are tied: ranks start+1..stop+1, mean below.
        shared = (start + stop) / 2 + 1
        for _, i in keyed[start : stop + 1]:
            ranks[i] = shared
        start = stop + 1
    return ranks


@dataclass
class Leaderboard:
    """Ranks of every submission on every dataset, ordered by average rank."""

    datasets: list[str]
    submissions: list[str]  # best (lowest average rank) first
    results: dict[tuple[str, str], RunResult] = field(default_factory=dict)
    ranks: dict[tuple[str, str], float] = field(default_factory=dict)
    average_rank: dict[str, float] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)  # 1 = best; ties share

    def alc(self, submission: str, dataset: str) -> float | None:
        r = self.results.get((submission, dataset))
        return r.alc if r is not None and r.scored else None

    def status(self, submission: str, dataset: str) -> str:
        r = self.results.get((submission, dataset))
        return MISSING if r is None else str(r.status)


def build_leaderboard(
    results: Sequence[RunResult],
    *,
    datasets: Sequence[str] | None = None,
    submissions: Sequence[str] | None = None,
) -> Leaderboard:
    """Rank ``results``; every submission is ranked on every dataset (missing = last).

    ``datasets`` and ``submissions`` fix the order and the set (a challenge's config);
    by default they are the names found in ``results``, in order of first appearance.
    """
    by_key = {(r.submission, r.dataset): r for r in results}
    ds = list(datasets) if datasets is not None else list(dict.fromkeys(r.dataset for r in results))
    subs = (
        list(submissions)
        if submissions is not None
        else list(dict.fromkeys(r.submission for r in results))
    )
    board = Leaderboard(datasets=ds, submissions=subs)
    board.results = {k: v for k, v in by_key.items() if k[0] in subs and k[1] in ds}
    for d in ds:
        ranks = rank_values([board.alc(s, d) for s in subs])
        for s, rank in zip(subs, ranks, strict=True):
            board.ranks[(s, d)] = rank
    for s in subs:
        board.average_rank[s] = (
            sum(board.ranks[(s, d)] for d in ds) / len(ds) if ds else float("nan")
        )
    board.submissions = sorted(subs, key=lambda s: (round(board.average_rank[s], _DECIMALS), s))
    # Competition positions ("1, 1, 3"): tied average ranks share the better position.
    for i, s in enumerate(board.submissions):
        prev = board.submissions[i - 1] if i else None
        same = prev is not None and round(board.average_rank[prev], _DECIMALS) == round(
            board.average_rank[s], _DECIMALS
        )
        board.position[s] = board.position[prev] if same else i + 1
    return board


# --------------------------------------------------------------------------- outputs


def _fmt(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def leaderboard_rows(board: Leaderboard) -> list[list[str]]:
    """The leaderboard as text cells: header first, one row per submission, best first."""
    header = ["position", "submission", "average_rank"]
    for d in board.datasets:
        header += [f"{d}_alc", f"{d}_rank"]
    rows = [header]
    for s in board.submissions:
        row = [str(board.position[s]), s, f"{board.average_rank[s]:.4g}"]
        for d in board.datasets:
            row += [_fmt(board.alc(s, d)), f"{board.ranks[(s, d)]:g}"]
        rows.append(row)
    return rows


def leaderboard_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(leaderboard_rows(board))
    return buf.getvalue()


def format_table(board: Leaderboard) -> str:
    """A plain-text table for the terminal: ALC (rank) per dataset, average rank."""
    header = ["#", "submission", "avg rank", *board.datasets]
    rows = [header]
    for s in board.submissions:
        cells = [str(board.position[s]), s, f"{board.average_rank[s]:.2f}"]
        for d in board.datasets:
            alc = board.alc(s, d)
            rank = board.ranks[(s, d)]
            shown = (
                f"{alc:.4f} ({rank:g})" if alc is not None else (f"{board.status(s, d)} ({rank:g})")
            )
            cells.append(shown)
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for n, r in enumerate(rows):
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def codalab_scores(board: Leaderboard) -> dict[str, dict[str, float]]:
    """The CodaLab parent-phase form: per submission, ``set<i>_score`` = ALC on dataset i.

    Datasets are numbered in the leaderboard's order, from 1; a failed or missing run
    scores 0 there, as the platform's aggregation did.
    """
    form: dict[str, dict[str, float]] = {}
    for s in board.submissions:
        scores = {f"set{i}_score": board.alc(s, d) or 0.0 for i, d in enumerate(board.datasets, 1)}
        scores["ave_rank"] = board.average_rank[s]
        form[s] = scores
    return form


def write_codalab(board: Leaderboard, out_dir: str | os.PathLike[str]) -> Path:
    """``<out_dir>/codalab/<submission>/scores.txt`` in the parent phase's ``key: value`` form.

    ``codalab/sets.txt`` says which dataset each set number is.
    """
    root = Path(out_dir) / CODALAB_DIR
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(
        root / CODALAB_SETS,
        "".join(f"set{i}: {d}\n" for i, d in enumerate(board.datasets, 1)),
    )
    for s, scores in codalab_scores(board).items():
        folder = root / s
        folder.mkdir(exist_ok=True)
        atomic_write(folder / SCORES_TXT, "".join(f"{k}: {v:.6f}\n" for k, v in scores.items()))
    return root


def write_leaderboard(
    board: Leaderboard, out_dir: str | os.PathLike[str], *, title: str = "AutoDL leaderboard"
) -> list[Path]:
    """``leaderboard.csv``, the CodaLab form and ``leaderboard.html``; returns the paths."""
    from autodl.report.leaderboard import write_leaderboard_html

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / LEADERBOARD_CSV
    atomic_write(csv_path, leaderboard_csv(board))
    codalab = write_codalab(board, out_dir)
    html = write_leaderboard_html(board, out_dir / LEADERBOARD_HTML, title=title)
    return [csv_path, codalab, html]
