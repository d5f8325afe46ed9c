"""What is in a task: domain, shapes, class balance, sizes, and a picture of examples.

>>> from autodl.data.inspect import inspect_task, plot
>>> summary = inspect_task("miniciao")                     # doctest: +SKIP
>>> print(summary.to_text()); plot(summary, "miniciao.png")  # doctest: +SKIP

The domain is guessed from the tensor shape (protocol section 3): sparse with a
vocabulary -> text; (T, 1, 1, 1) with T != 1 -> speech; (1, 1, F, 1) or sparse tabular
-> tabular; (1, H, W, C) -> image; (T, H, W, C) -> video. A ``domain`` line of
``<name>_public.info`` wins over the guess.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autodl.data.formats._base import DOMAINS, parse_info, progress

MAX_PICTURE_EXAMPLES = 32


def guess_domain(metadata: Any) -> str:
    """image / video / speech / text / tabular from an AutoDLMetadata's shape and format."""
    t, r, c, ch = (int(v) for v in metadata.get_tensor_shape())
    if metadata.is_sparse():
        if metadata.get_channel_to_index_map() or (c != -1 and c <= ch):
            return "text"
        return "tabular"
    if metadata.get_channel_to_index_map() and r == 1 and c == 1:
        return "text"
    if r == 1 and c == 1:
        return "tabular" if t == 1 else "speech"
    if t == 1 and (r == 1 or c == 1) and not metadata.is_compressed():
        return "tabular"
    return "image" if t == 1 else "video"


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
                total = max(s.num_examples, 1)
                for k, count in enumerate(s.class_counts):
                    name = self.label_names[k] if k < len(self.label_names) else str(k)
                    bar = "#" * int(round(30 * count / total))
                    lines.append(f"              {name[:16]:<16} {count:>8g} {bar}")
        if self.domain == "text" and self.examples:
            lines.append("examples (decoded tokens):")
            for ex, lab in zip(self.examples[:5], self.example_labels[:5], strict=False):
                lines.append(f"  [{self._label_text(lab)}] {self.decode(ex, 30)}")
        return "\n".join(lines)

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
        for j in progress(range(limit), limit, f"reading {split}"):
            example, labels = ds[j]
            shape = np.asarray(np.shape(example))
            lo = shape if lo is None else np.minimum(lo, shape)
            hi = shape if hi is None else np.maximum(hi, shape)
            counts += np.asarray(labels) > 0
            if i == 0 and j < picture_examples:
                summary.examples.append(np.asarray(example))
                summary.example_labels.append(np.asarray(labels))
        class_counts: np.ndarray | None = counts
        if split == "test" and limit and not counts.any():
            # labels erased in the test files: count them from the solution instead
            class_counts = _solution_counts(solution, summary.output_dim)
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
                    None
                    if class_counts is None
                    else float(np.sum(class_counts))
                    / max(limit if class_counts is counts else n, 1)
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
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, out)
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


def _to_image(frame: np.ndarray) -> tuple[np.ndarray, str | None]:
    frame = np.clip(np.asarray(frame, dtype=np.float32), 0, 1)
    if frame.shape[-1] == 1:
        return frame[..., 0], "gray"
    return frame[..., :3], None


def _label(summary: Summary, labels: np.ndarray) -> str:
    return summary._label_text(labels)[:18]


def _grid_figure(plt, rows: int, cols: int):
    fig = plt.figure(figsize=(max(8, 1.4 * cols), 1.5 * rows + 3.2), layout="constrained")
    grid = fig.add_gridspec(rows + 2, cols)
    return fig, grid


def _draw_images(plt, summary: Summary):
    examples = summary.examples
    cols = min(8, max(len(examples), 1))
    rows = max(1, min(4, -(-len(examples) // cols)))
    fig, grid = _grid_figure(plt, rows, cols)
    for k, (ex, lab) in enumerate(
        zip(examples[: rows * cols], summary.example_labels, strict=False)
    ):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        img, cmap = _to_image(ex[0])
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(_label(summary, lab), fontsize=8)
        ax.axis("off")
    _balance(fig.add_subplot(grid[rows:, :]), summary)
    return fig


def _draw_video(plt, summary: Summary):
    examples = summary.examples[:4]
    cols = 8
    rows = max(1, len(examples))
    fig, grid = _grid_figure(plt, rows, cols)
    for r, (ex, lab) in enumerate(zip(examples, summary.example_labels, strict=False)):
        times = np.unique(np.linspace(0, len(ex) - 1, cols).round().astype(int))
        for c, t in enumerate(times):
            ax = fig.add_subplot(grid[r, c])
            img, cmap = _to_image(ex[t])
            ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(f"{_label(summary, lab)} t={t}" if c == 0 else f"t={t}", fontsize=7)
            ax.axis("off")
    _balance(fig.add_subplot(grid[rows:, :]), summary)
    return fig


def _draw_speech(plt, summary: Summary):
    examples = summary.examples[:3]
    rate = summary.sample_rate or 16000
    fig = plt.figure(figsize=(10, 2.2 * len(examples) + 3), layout="constrained")
    grid = fig.add_gridspec(len(examples) + 1, 2)
    for r, (ex, lab) in enumerate(zip(examples, summary.example_labels, strict=False)):
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
    _balance(fig.add_subplot(grid[len(examples), :]), summary)
    return fig


def _draw_text(plt, summary: Summary):
    import textwrap

    examples = summary.examples[:8]
    fig = plt.figure(figsize=(11, 8), layout="constrained")
    grid = fig.add_gridspec(3, 2)
    ax = fig.add_subplot(grid[:2, :])
    ax.axis("off")
    y = 1.0
    for ex, lab in zip(examples, summary.example_labels, strict=False):
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
    return fig


def _draw_tabular(plt, summary: Summary):
    fig = plt.figure(figsize=(11, 6), layout="constrained")
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
    return fig
