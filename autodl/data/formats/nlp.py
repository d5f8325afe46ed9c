"""AutoNLP format (the 2019 AutoNLP challenge): one text a line.

    O1/
      O1.data/
        meta.json          {"class_num": 2, "train_num": ..., "test_num": ..., "language": "EN"}
        train.data         one text per line
        train.solution     one label row per line (one-hot), or one class index per line
        test.data          one text per line
      O1.solution          test labels (the organisers' file); without it, train is split

The tokens of all texts go into one vocabulary (most frequent first) kept in the
metadata's ``channel_to_index_map``; each example is its token ids (sparse text).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from autodl.data.formats import text as textmod
from autodl.data.formats._base import FormatError, RawTask, Split, progress, read_solution


def detect(path: Path) -> bool:
    return _data_dir(path) is not None


def _data_dir(path: Path) -> Path | None:
    if not path.is_dir():
        return None
    if (path / "meta.json").is_file() and (path / "train.data").is_file():
        return path
    found = [d for d in sorted(path.glob("*.data")) if (d / "meta.json").is_file()]
    return found[0] if len(found) == 1 else None


def read(source: Path, name: str | None = None, language: str | None = None) -> RawTask:
    source = Path(source)
    data_dir = _data_dir(source)
    if data_dir is None:
        raise FormatError(f"{source}: no <name>.data folder with meta.json (AutoNLP format)")
    base = data_dir.name[: -len(".data")] if data_dir.name.endswith(".data") else data_dir.name
    meta_path = data_dir / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{meta_path}: not valid JSON ({exc})") from None
    if "class_num" not in meta:
        raise FormatError(f"{meta_path}: no class_num")
    num_classes = int(meta["class_num"])
    language = language or meta.get("language")

    train_texts = _lines(data_dir / "train.data")
    train_labels = read_solution(
        data_dir / "train.solution", num_classes, len(train_texts), "texts"
    )
    test_texts: list[str] | None = None
    test_labels = None
    solution = _find_test_solution(data_dir, base)
    if solution is not None and (data_dir / "test.data").is_file():
        test_texts = _lines(data_dir / "test.data")
        test_labels = read_solution(solution, num_classes, len(test_texts), "texts")
    for key, texts in (("train_num", train_texts), ("test_num", test_texts)):
        if texts is not None and key in meta and int(meta[key]) != len(texts):
            raise FormatError(f"{meta_path}: {key} is {meta[key]} but there are {len(texts)} lines")

    language = (language or textmod.guess_language(train_texts)).upper()
    all_texts = train_texts + (test_texts or [])
    docs = [
        textmod.tokenize(t, language) for t in progress(all_texts, len(all_texts), "tokenizing")
    ]
    vocabulary = textmod.build_vocabulary(docs)
    ids = [np.asarray(textmod.encode(d, vocabulary), dtype=np.int64) for d in docs]
    n = len(train_texts)
    task = RawTask(
        name=name or base,
        kind="sparse",
        domain="text",
        train=Split(ids[:n], train_labels, [f"train.data:{i + 1}" for i in range(n)]),
        test=Split(ids[n:], test_labels) if test_labels is not None else None,
        shape=(-1, 1, 1, len(vocabulary)),
        vocabulary=vocabulary,
        info={"language": language},
    )
    if "time_budget" in meta:
        task.info["time_budget"] = str(meta["time_budget"])
    if test_labels is None:
        task.notes.append("no test solution found: test.data is ignored and train is split")
    return task


def _find_test_solution(data_dir: Path, base: str) -> Path | None:
    for candidate in (
        data_dir.parent / f"{base}.solution",
        data_dir / f"{base}.solution",
        data_dir / "test.solution",
    ):
        if candidate.is_file():
            return candidate
    return None


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FormatError(f"{path}: missing")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]
