"""File format: one file per example plus a labels CSV (the AutoDL contribution kit).

    mini-cifar/
      airplane1.png ...            images, videos, audio or .txt token files
      labels.csv                   FileName,Labels (indices separated by spaces) or
                                   FileName,LabelConfidencePairs ("label score label score")
      label.name                   optional: one class name per line (line i = label i)
      feat.name                    optional (text): one token per line (line i = token id i)
      private.info                 optional: "key : 'value'" lines

The labels CSV is ``labels.csv`` or the one CSV whose header starts with ``FileName``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from autodl.data.formats import media
from autodl.data.formats import text as textmod
from autodl.data.formats._base import (
    FormatError,
    RawTask,
    Split,
    parse_info,
    progress,
    read_names,
    where,
)

LABEL_COLUMNS = ("Labels", "LabelConfidencePairs")


def detect(path: Path) -> bool:
    return path.is_dir() and find_labels_file(path, required=False) is not None


def find_labels_file(folder: Path, required: bool = True) -> Path | None:
    if (folder / "labels.csv").is_file():
        return folder / "labels.csv"
    candidates = []
    for csv_path in sorted(folder.glob("*.csv")):
        with open(csv_path, encoding="utf-8", errors="replace", newline="") as f:
            header = f.readline()
        if header.strip().lower().startswith("filename,"):
            candidates.append(csv_path)
    if len(candidates) == 1:
        return candidates[0]
    if required:
        found = ", ".join(p.name for p in candidates) or "none"
        raise FormatError(
            f"{folder}: no labels.csv (a CSV with the header FileName,Labels or "
            f"FileName,LabelConfidencePairs); candidate CSV files: {found}"
        )
    return None


def read_labels(
    csv_path: Path, label_names: list[str] | None
) -> tuple[list[str], list[int], np.ndarray]:
    """Parse the labels CSV -> (file names, CSV line numbers, label matrix)."""
    rows: list[tuple[str, int, dict[int, float]]] = []
    with open(csv_path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or len(header) < 2 or header[0].strip() != "FileName":
            raise FormatError(
                f"{where(csv_path, 1)}: the header must be FileName,Labels or "
                f"FileName,LabelConfidencePairs, not {','.join(header or [])!r}"
            )
        column = header[1].strip()
        if column not in LABEL_COLUMNS:
            raise FormatError(
                f"{where(csv_path, 1)}: unknown label column {column!r} "
                f"(expected one of {', '.join(LABEL_COLUMNS)})"
            )
        with_scores = column == "LabelConfidencePairs"
        name_index = {n: i for i, n in enumerate(label_names or [])}
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2 or not row[0].strip():
                raise FormatError(f"{where(csv_path, line)}: expected FileName,{column}")
            file_name = row[0].strip()
            if file_name in seen:
                raise FormatError(
                    f"{where(csv_path, line)}: {file_name} is listed twice "
                    f"(first on line {seen[file_name]})"
                )
            seen[file_name] = line
            scores = _parse_label_field(row[1], with_scores, name_index, csv_path, line)
            rows.append((file_name, line, scores))
    if not rows:
        raise FormatError(f"{csv_path}: no examples")
    if label_names is not None:
        output_dim = len(label_names)
        for _, line, scores in rows:
            for k in scores:
                if k >= output_dim:
                    raise FormatError(
                        f"{where(csv_path, line)}: label {k} is outside label.name "
                        f"({output_dim} classes, 0..{output_dim - 1})"
                    )
    else:
        output_dim = 1 + max((k for _, _, s in rows for k in s), default=0)
    labels = np.zeros((len(rows), output_dim), dtype=np.float32)
    for i, (_, _, scores) in enumerate(rows):
        for k, v in scores.items():
            labels[i, k] = v
    return [r[0] for r in rows], [r[1] for r in rows], labels


def _parse_label_field(
    field: str, with_scores: bool, name_index: dict[str, int], path: Path, line: int
) -> dict[int, float]:
    tokens = field.replace(",", " ").split()

    def index(token: str) -> int:
        if token in name_index:
            return name_index[token]
        try:
            k = int(token)
        except ValueError:
            raise FormatError(
                f"{where(path, line)}: label {token!r} is neither an index nor a name in label.name"
            ) from None
        if k < 0:
            raise FormatError(f"{where(path, line)}: negative label {k}")
        return k

    if not with_scores:
        return {index(t): 1.0 for t in tokens}
    if len(tokens) % 2:
        raise FormatError(f"{where(path, line)}: LabelConfidencePairs needs label score pairs")
    scores = {}
    for label, score in zip(tokens[::2], tokens[1::2], strict=False):
        try:
            scores[index(label)] = float(score)
        except ValueError:
            raise FormatError(f"{where(path, line)}: score {score!r} is not a number") from None
    return scores


def read(
    source: Path,
    name: str | None = None,
    *,
    frame_step: int = 1,
    max_frames: int | None = None,
    video_quality: int = 90,
    sample_rate: int | None = None,
    language: str | None = None,
) -> RawTask:
    """Read a file-format folder into a RawTask (all examples in ``train``; no test split)."""
    source = Path(source)
    if not source.is_dir():
        raise FormatError(f"{source}: not a folder")
    csv_path = find_labels_file(source)
    label_names = read_names(source / "label.name")
    files, lines, labels = read_labels(csv_path, label_names)
    paths = []
    for file_name, line in zip(files, lines, strict=False):
        path = source / file_name
        if not path.is_file():
            raise FormatError(f"{where(csv_path, line)}: {file_name} does not exist in {source}")
        paths.append(path)
    kinds = {_media_kind(p, csv_path, line) for p, line in zip(paths, lines, strict=False)}
    if len(kinds) > 1:
        raise FormatError(f"{csv_path}: mixes {' and '.join(sorted(kinds))} files")
    kind = kinds.pop()
    task_name = name or source.name
    try:
        if kind == "image":
            task = _images(task_name, paths)
        elif kind == "video":
            task = _videos(task_name, paths, frame_step, max_frames, video_quality)
        elif kind == "audio":
            task = _audio(task_name, paths, sample_rate)
        else:
            task = _texts(task_name, paths, source, language)
    except FormatError as exc:
        line_of = {os.fspath(p): line for p, line in zip(paths, lines, strict=True)}
        if exc.path in line_of:  # say where the file is listed too
            raise FormatError(
                f"{exc} (listed on {where(csv_path, line_of[exc.path])})", exc.path
            ) from exc
        raise
    task.train = Split(task.train.examples, labels, files)
    task.label_names = label_names
    task.private_info = parse_info(source / "private.info")
    return task


def _media_kind(path: Path, csv_path: Path, line: int) -> str:
    ext = path.suffix.lower()
    for kind, exts in (
        ("image", media.IMAGE_EXTENSIONS),
        ("video", media.VIDEO_EXTENSIONS),
        ("audio", media.AUDIO_EXTENSIONS),
        ("text", media.TEXT_EXTENSIONS),
    ):
        if ext in exts:
            return kind
    raise FormatError(f"{where(csv_path, line)}: {path.name}: unsupported file type {ext!r}")


def _common(values: list[int]) -> int:
    """The shared size, or -1 when examples differ (variable size in the metadata)."""
    return values[0] if len(set(values)) == 1 else -1


def _images(name: str, paths: list[Path]) -> RawTask:
    images = [media.read_image(p) for p in progress(paths, len(paths), "images")]
    grey = all(im.grey for im in images)
    shape = (1, _common([im.height for im in images]), _common([im.width for im in images]))
    return RawTask(
        name=name,
        kind="compressed",
        domain="image",
        train=Split([[im.data] for im in images], np.zeros((len(images), 0))),
        test=None,
        shape=(*shape, 1 if grey else 3),
    )


def _videos(
    name: str, paths: list[Path], frame_step: int, max_frames: int | None, quality: int
) -> RawTask:
    examples, heights, widths, lengths, greys = [], [], [], [], []
    for p in progress(paths, len(paths), "videos"):
        video = media.read_video(p, frame_step, max_frames)
        # encode at once so only one video's raw frames are in memory; a grey video keeps
        # one channel (decoding it with 3 channels, if others are in colour, repeats it)
        grey = video.grey
        frames = [f[:, :, :1] if grey else f for f in video.frames]
        examples.append([media.encode_jpeg(f, quality) for f in frames])
        heights.append(frames[0].shape[0])
        widths.append(frames[0].shape[1])
        lengths.append(len(frames))
        greys.append(grey)
    grey = all(greys)
    task = RawTask(
        name=name,
        kind="compressed",
        domain="video",
        train=Split(examples, np.zeros((len(examples), 0))),
        test=None,
        shape=(_common(lengths), _common(heights), _common(widths), 1 if grey else 3),
    )
    task.notes.append(
        f"{len(paths)} videos, {sum(lengths)} frames (every {frame_step}), "
        f"{'greyscale' if grey else 'colour'}, JPEG quality {quality}"
    )
    return task


def _audio(name: str, paths: list[Path], sample_rate: int | None) -> RawTask:
    clips = []
    for p in progress(paths, len(paths), "audio"):
        samples, rate = media.read_audio(p, sample_rate)
        sample_rate = rate  # every later file is resampled to the first file's rate
        clips.append(samples.reshape(-1, 1, 1, 1))
    task = RawTask(
        name=name,
        kind="dense",
        domain="speech",
        train=Split(clips, np.zeros((len(clips), 0))),
        test=None,
        shape=(_common([len(c) for c in clips]), 1, 1, 1),
    )
    task.info["sample_rate"] = str(sample_rate)
    task.notes.append(f"{len(clips)} clips, mono at {sample_rate} Hz")
    return task


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc})", path) from None


def _texts(name: str, paths: list[Path], source: Path, language: str | None) -> RawTask:
    texts = [_read_text(p) for p in paths]
    language = language or textmod.guess_language(texts)
    docs = [textmod.tokenize(t, language) for t in texts]
    feat_names = read_names(source / "feat.name")
    if all(tok.isdigit() for doc in docs for tok in doc):
        # Already token ids (the kit's preferred text form); feat.name names them when given.
        ids = [np.asarray([int(t) for t in doc], dtype=np.int64) for doc in docs]
        top = max((int(d.max()) for d in ids if len(d)), default=-1)
        vocabulary = {w: i for i, w in enumerate(feat_names or [])}
        num_channels = max(len(vocabulary), top + 1)
    else:
        vocabulary = textmod.build_vocabulary(docs)
        ids = [np.asarray(textmod.encode(d, vocabulary), dtype=np.int64) for d in docs]
        num_channels = len(vocabulary)
    task = RawTask(
        name=name,
        kind="sparse",
        domain="text",
        train=Split(ids, np.zeros((len(ids), 0))),
        test=None,
        shape=(-1, 1, 1, num_channels),
        vocabulary=vocabulary,
    )
    task.info["language"] = language
    return task
