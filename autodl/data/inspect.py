"""What is in a task: domain, shapes, class balance, sizes, and a picture of examples.

>>> from autodl.data.inspect import inspect_task, plot
>>> summary = inspect_task("miniciao")                     # doctest: +SKIP
>>> print(summary.to_text()); plot(summary, "miniciao.png")  # doctest: +SKIP

The domain is guessed from the metadata by :func:`autodl.data.domain.guess_domain`
(the rule the writer uses too); a ``domain`` line of ``<name>_public.info`` wins over
the guess.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autodl.data.domain import DOMAINS, guess_domain
from autodl.data.formats._base import parse_info, progress
from autodl.protocol import atomic_file

MAX_PICTURE_EXAMPLES = 32


@dataclass
class SplitSummary:
    split: str
    num_examples: int
    tensor_shape: list[int]  # from the metadata, -1 = varies
    shape_min: list[int]  # over the examples read
    shape_max: list[int]
    bytes_on_disk: int
    class_counts: list[float] | None  # None: labels erased and no solution file
    labels_per_example: float | None
    examples_read: int


@dataclass
class Summary:
    name: str
    path: str
    domain: str
    domain_source: str  # "public.info" or "shape"
    output_dim: int
    label_names: list[str]
    storage: str  # dense / compressed / sparse
    vocabulary_size: int
    splits: list[SplitSummary] = field(default_factory=list)
    # what the picture draws (not serialised)
    examples: list[np.ndarray] = field(default_factory=list, repr=False)
    example_labels: list[np.ndarray] = field(default_factory=list, repr=False)
    index_to_token: dict[int, str] = field(default_factory=dict, repr=False)
    sample_rate: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("examples", "example_labels", "index_to_token"):
            d.pop(key)
        return d

    def to_text(self) -> str:
        lines = [
            f"task        {self.name}  ({self.path})",
            f"domain      {self.domain}  (from {self.domain_source})",
            f"storage     {self.storage}"
            + (f", vocabulary of {self.vocabulary_size} tokens" if self.vocabulary_size else ""),
            f"classes     {self.output_dim}",
        ]
        for s in self.splits:
            shape = "x".join(str(v) for v in s.tensor_shape)
            seen = (
                "x".join(_range(a, b) for a, b in zip(s.shape_min, s.shape_max, strict=False))
                if s.examples_read
                else "-"
            )
            lines.append(
                f"{s.split:<11} {s.num_examples} examples, {_human(s.bytes_on_disk)} on disk, "
                f"shape {shape} (T,R,C,Ch; read: {seen})"
            )
            if s.class_counts is None:
                lines.append("            class balance: unknown (labels erased, no solution)")
            else:
                lines.append(
                    f"            class balance ({s.labels_per_example:.2f} labels/example):"
                )
                lines.extend(self._balance_lines(s))
        if self.domain == "text" and self.examples:
            lines.append("examples (decoded tokens):")
            for ex, lab in zip(self.examples[:5], self.example_labels[:5], strict=False):
                lines.append(f"  [{self._label_text(lab)}] {self.decode(ex, 30)}")
        return "\n".join(lines)

    def _balance_lines(self, s: SplitSummary, max_classes: int = 20) -> list[str]:
        counts = np.asarray(s.class_counts)
        total = max(s.num_examples, 1)
        shown = range(len(counts))
        lines = []
        if len(counts) > max_classes:
            # too many to list: the spread, then the most frequent classes
            lines.append(
                f"              per class: min {counts.min():g}, median {np.median(counts):g}, "
                f"max {counts.max():g}; {int((counts == 0).sum())} classes without examples"
            )
            shown = np.argsort(-counts, kind="stable")[:10]
        for k in shown:
            name = self.label_names[k] if k < len(self.label_names) else str(k)
            bar = "#" * int(round(30 * counts[k] / total))
            lines.append(f"              {name[:16]:<16} {counts[k]:>8g} {bar}")
        return lines

    def decode(self, example: np.ndarray, limit: int | None = None) -> str:
        ids = np.asarray(example).reshape(-1).astype(np.int64)
        words = [self.index_to_token.get(int(i), f"#{int(i)}") for i in ids[:limit]]
        return " ".join(words) + (" ..." if limit is not None and len(ids) > limit else "")

    def _label_text(self, labels: np.ndarray) -> str:
        active = np.flatnonzero(np.asarray(labels) > 0)
        names = [self.label_names[k] if k < len(self.label_names) else str(k) for k in active]
        return ", ".join(names) or "-"


def _range(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}-{b}"


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _split_bytes(split_dir: Path) -> int:
    return sum(p.stat().st_size for p in split_dir.iterdir() if p.is_file())


def inspect_task(
    path: str | os.PathLike[str],
    max_examples: int | None = None,
    picture_examples: int = MAX_PICTURE_EXAMPLES,
    log: Callable[[str], None] | None = None,
) -> Summary:
    """Summarise the task, data folder or split folder at ``path``.

    Every example is read for the class balance and the shape range unless
    ``max_examples`` caps it; ``picture_examples`` of the first split are kept to draw.
    """
    from autodl.data import TaskError, find_task, load

    path = Path(path)
    task = find_task(path)  # a task, a .data folder or a split folder
    splits: list[tuple[str, Path, Any]] = [
        (split, Path(d), load(d))
        for split, d in (("train", task.train_dir), ("test", task.test_dir))
        if d is not None
    ]
    if not splits:
        raise TaskError(path, "no split folder to inspect")
    solution = task.solution_path
    info = parse_info(task.public_info_path) if task.public_info_path else {}

    metadata = splits[0][2].metadata
    domain = info.get("domain", "").strip().lower()
    source = "public.info"
    if domain not in DOMAINS:
        domain, source = guess_domain(metadata), "shape"
    label_map = metadata.get_label_to_index_map() or {}
    label_names = [str(k) for k in range(metadata.get_output_size())]
    for label, k in label_map.items():
        if 0 <= int(k) < len(label_names):
            label_names[int(k)] = label
    vocabulary = metadata.get_channel_to_index_map() or {}
    storage = (
        "sparse" if metadata.is_sparse() else "compressed" if metadata.is_compressed() else "dense"
    )
    summary = Summary(
        name=task.name,
        path=str(path),
        domain=domain,
        domain_source=source,
        output_dim=int(metadata.get_output_size()),
        label_names=label_names,
        storage=storage,
        vocabulary_size=len(vocabulary),
        index_to_token={int(v): k for k, v in vocabulary.items()},
    )
    if "sample_rate" in info:
        summary.sample_rate = int(float(info["sample_rate"]))

    for i, (split, split_dir, ds) in enumerate(splits):
        n = len(ds)
        limit = n if max_examples is None else min(n, max_examples)
        counts = np.zeros(summary.output_dim, dtype=np.float64)
        lo = hi = None
        pairs = itertools.islice(iter(ds), limit)
        for j, (example, labels) in enumerate(progress(pairs, limit, f"reading {split}")):
            shape = np.asarray(np.shape(example))
            lo = shape if lo is None else np.minimum(lo, shape)
            hi = shape if hi is None else np.maximum(hi, shape)
            counts += np.asarray(labels) > 0
            if i == 0 and j < picture_examples:
                summary.examples.append(np.asarray(example))
                summary.example_labels.append(np.asarray(labels))
        class_counts: np.ndarray | None = counts
        counted = limit
        if split == "test" and limit and not counts.any():
            # labels erased in the test files: count them from the solution instead
            class_counts, counted = _solution_counts(solution, summary.output_dim), n
        summary.splits.append(
            SplitSummary(
                split=split,
                num_examples=n,
                tensor_shape=[int(v) for v in ds.metadata.get_tensor_shape()],
                shape_min=[int(v) for v in (lo if lo is not None else [])],
                shape_max=[int(v) for v in (hi if hi is not None else [])],
                bytes_on_disk=_split_bytes(split_dir) if split_dir.is_dir() else 0,
                class_counts=None if class_counts is None else [float(c) for c in class_counts],
                labels_per_example=(
                    None if class_counts is None else float(np.sum(class_counts)) / max(counted, 1)
                ),
                examples_read=limit,
            )
        )
        if log:
            log(f"{split}: {n} examples read")
    return summary


def _solution_counts(solution: Path | None, output_dim: int) -> np.ndarray | None:
    if solution is None or not Path(solution).is_file():
        return None
    from autodl.protocol import read_matrix

    y = np.asarray(read_matrix(solution), dtype=np.float64).reshape(-1, output_dim)
    return (y > 0).sum(axis=0)


# ---------------------------------------------------------------- pictures


def plot(summary: Summary, out_png: str | os.PathLike[str]) -> Path:
    """Draw the examples (by domain) and the class balance into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    draw = {
        "image": _draw_images,
        "video": _draw_video,
        "speech": _draw_speech,
        "text": _draw_text,
        "tabular": _draw_tabular,
    }[summary.domain]
    fig = draw(plt, summary)
    fig.suptitle(f"{summary.name}: {summary.domain}, {summary.output_dim} classes", fontsize=12)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_file(out) as f:
            fig.savefig(f, format="png", dpi=100)
    finally:
        plt.close(fig)
    return out


def _balance(ax, summary: Summary) -> None:
    width = 0.8 / max(len(summary.splits), 1)
    x = np.arange(summary.output_dim)
    for i, s in enumerate(summary.splits):
        if s.class_counts is not None:
            ax.bar(x + i * width, s.class_counts, width, label=s.split)
    if summary.output_dim <= 20:
        ax.set_xticks(x + width * (len(summary.splits) - 1) / 2)
        ax.set_xticklabels([n[:12] for n in summary.label_names], rotation=45, ha="right")
    ax.set_ylabel("examples")
    ax.set_title("class balance")
    ax.legend()


def _mosaic(tiles: list[np.ndarray], cols: int, pad: int = 1) -> np.ndarray:
    """Frames (H, W, C) in [0, 1] of possibly different sizes -> one padded RGB grid."""
    h = max(t.shape[0] for t in tiles)
    w = max(t.shape[1] for t in tiles)
    rows = -(-len(tiles) // cols)
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), dtype=np.float32)
    for k, tile in enumerate(tiles):
        tile = np.clip(np.asarray(tile, dtype=np.float32), 0, 1)
        tile = np.repeat(tile, 3, axis=2) if tile.shape[2] == 1 else tile[:, :, :3]
        r, c = divmod(k, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return grid


def _spread(summary: Summary, k: int) -> list[int]:
    """Up to k example indices taking the classes in turn, so the picture shows them all."""
    by_class: dict[int, list[int]] = {}
    for i, lab in enumerate(summary.example_labels):
        key = int(np.argmax(lab)) if np.any(lab) else -1
        by_class.setdefault(key, []).append(i)
    order: list[int] = []
    queues = [list(v) for _, v in sorted(by_class.items())]
    while len(order) < k and any(queues):
        for q in queues:
            if q and len(order) < k:
                order.append(q.pop(0))
    return order


def _label(summary: Summary, labels: np.ndarray) -> str:
    return summary._label_text(labels)[:18]


def _examples_and_balance(plt, summary: Summary, tiles, cols, captions):
    """One mosaic of frames with a caption per cell, above the class balance."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 10), gridspec_kw={"height_ratios": [3, 1]})
    if tiles:
        grid = _mosaic(tiles, cols)
        top.imshow(grid, interpolation="nearest")
        cell_w = grid.shape[1] / cols
        cell_h = (grid.shape[0] - 1) / -(-len(tiles) // cols)
        for k, caption in enumerate(captions):
            r, c = divmod(k, cols)
            top.text(
                c * cell_w + 2,
                r * cell_h + 2,
                caption,
                fontsize=7,
                va="top",
                color="yellow",
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 1},
            )
    top.axis("off")
    _balance(bottom, summary)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.93, bottom=0.1, hspace=0.25)
    return fig


def _draw_images(plt, summary: Summary):
    shown = _spread(summary, MAX_PICTURE_EXAMPLES)
    tiles = [summary.examples[i][0] for i in shown]
    captions = [_label(summary, summary.example_labels[i]) for i in shown]
    return _examples_and_balance(plt, summary, tiles, 8, captions)


def _draw_video(plt, summary: Summary):
    cols, tiles, captions = 8, [], []
    for i in _spread(summary, 4):
        ex, lab = summary.examples[i], summary.example_labels[i]
        times = np.linspace(0, len(ex) - 1, cols).round().astype(int)
        for c, t in enumerate(times):
            tiles.append(ex[t])
            captions.append(f"{_label(summary, lab)} t={t}" if c == 0 else f"t={t}")
    return _examples_and_balance(plt, summary, tiles, cols, captions)


def _draw_speech(plt, summary: Summary):
    shown = _spread(summary, 3)
    rate = summary.sample_rate or 16000
    fig = plt.figure(figsize=(10, 2.2 * len(shown) + 3))
    grid = fig.add_gridspec(len(shown) + 1, 2)
    for r, i in enumerate(shown):
        ex, lab = summary.examples[i], summary.example_labels[i]
        wave = np.asarray(ex, dtype=np.float32).reshape(-1)
        t = np.arange(len(wave)) / rate
        ax = fig.add_subplot(grid[r, 0])
        ax.plot(t, wave, linewidth=0.5)
        ax.set_title(f"waveform: {_label(summary, lab)}", fontsize=9)
        ax.set_xlabel("seconds" + ("" if summary.sample_rate else " (at an assumed 16 kHz)"))
        ax = fig.add_subplot(grid[r, 1])
        nfft = int(min(256, max(16, len(wave) // 8)))
        ax.specgram(wave, NFFT=nfft, Fs=rate, noverlap=nfft // 2, cmap="magma")
        ax.set_title("spectrogram", fontsize=9)
        ax.set_ylabel("Hz")
    _balance(fig.add_subplot(grid[len(shown), :]), summary)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _draw_text(plt, summary: Summary):
    import textwrap

    fig = plt.figure(figsize=(11, 8))
    grid = fig.add_gridspec(3, 2)
    ax = fig.add_subplot(grid[:2, :])
    ax.axis("off")
    y = 1.0
    for i in _spread(summary, 8):
        ex, lab = summary.examples[i], summary.example_labels[i]
        body = textwrap.shorten(summary.decode(ex, 60), 220, placeholder=" ...")
        line = textwrap.fill(f"[{summary._label_text(lab)}] {body}", 130)
        ax.text(
            0, y, line, va="top", ha="left", fontsize=8, family="monospace", transform=ax.transAxes
        )
        y -= 0.03 + 0.025 * line.count("\n") + 0.07
    ax.set_title(f"decoded tokens (vocabulary: {summary.vocabulary_size})", fontsize=10)
    lengths = [np.asarray(e).size for e in summary.examples]
    ax = fig.add_subplot(grid[2, 0])
    ax.hist(lengths, bins=20)
    ax.set_title(f"tokens per text (first {len(lengths)})", fontsize=9)
    _balance(fig.add_subplot(grid[2, 1]), summary)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _draw_tabular(plt, summary: Summary):
    fig = plt.figure(figsize=(11, 6))
    grid = fig.add_gridspec(1, 2)
    ax = fig.add_subplot(grid[0, 0])
    rows = [np.asarray(e, dtype=np.float32).reshape(-1) for e in summary.examples]
    width = max((len(r) for r in rows), default=0)
    table = np.full((len(rows), width), np.nan, dtype=np.float32)
    for i, r in enumerate(rows):
        table[i, : len(r)] = r
    if len(table):
        # each column scaled to [0, 1] so one large feature does not wash out the others
        lo, hi = np.nanmin(table, axis=0), np.nanmax(table, axis=0)
        scaled = (table - lo) / np.where(hi > lo, hi - lo, 1)
        im = ax.imshow(scaled, aspect="auto", cmap="viridis", interpolation="nearest")
        fig.colorbar(im, ax=ax, label="value (min-max per column)")
    ax.set_xlabel("feature")
    ax.set_ylabel("example")
    ax.set_title(f"first {len(rows)} examples", fontsize=10)
    _balance(fig.add_subplot(grid[0, 1]), summary)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig
