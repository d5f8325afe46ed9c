"""Which TensorFlow a submission gets: TF 2 as installed (mode ``"2"``) or TF 1.x through
``tf.compat.v1`` in graph mode (mode ``"1"``, :mod:`autodl.ingestion.tf1`).

Chosen on the trusted side, before the worker starts, in this order:

1. the caller (``--tf-mode 1|2`` of ``autodl ingest``/``autodl run``, or the submission's
   ``tf_mode`` key in a challenge YAML);
2. the submission's own ``autodl.yaml`` at its root, key ``tf_mode`` (1, 2 or auto);
3. ``auto``: its ``.py`` files are *read*, never run, and any TF1-only name
   (``tf.Session``, ``tf.placeholder``, ``tf.logging``, ``make_one_shot_iterator``...)
   outside comments and strings means mode 1; none means mode 2.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "model.py").write_text("import tensorflow as tf\\nsess = tf.Session()\\n")
>>> choice = choose(folder)
>>> choice.mode, choice.chosen_by, choice.evidence
('1', 'auto', ['model.py:2 tf.Session'])
>>> choose(folder, "2").to_dict()
{'mode': '2', 'chosen_by': 'flag', 'evidence': []}
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MODES = ("auto", "1", "2")
METADATA_FILE = "autodl.yaml"  # the submission's own settings, at its root

# Dotted names that exist in TensorFlow 1.x only (outside tf.compat.v1), by prefix.
TF1_NAMES = (
    "tf.Session",
    "tf.InteractiveSession",
    "tf.ConfigProto",
    "tf.GPUOptions",
    "tf.placeholder",
    "tf.placeholder_with_default",
    "tf.logging",
    "tf.contrib",
    "tf.estimator",
    "tf.layers",
    "tf.get_variable",
    "tf.variable_scope",
    "tf.global_variables_initializer",
    "tf.local_variables_initializer",
    "tf.trainable_variables",
    "tf.get_default_graph",
    "tf.reset_default_graph",
    "tf.app",
    "tf.flags",
    "tf.gfile",
    "tf.to_float",
    "tf.to_int32",
    "tf.log",
    "tf.is_nan",
    "tf.metrics.accuracy",
    "tf.losses.softmax_cross_entropy",
    "tf.losses.sigmoid_cross_entropy",
    "tf.image.resize_images",
    "tf.train.Saver",
    "tf.train.get_global_step",
    "tf.train.get_or_create_global_step",
    "tf.train.MonitoredTrainingSession",
)
_TF1_OPTIMIZER = re.compile(r"tf\.train\.\w*Optimizer$")
# Methods of TF 1.x datasets, whatever the receiver's name.
TF1_METHODS = ("make_one_shot_iterator", "make_initializable_iterator", "output_shapes")

# What the scan reads at most: it runs before the clock, on files the submission chose.
MAX_FILES = 2000
MAX_FILE_BYTES = 4 << 20
MAX_EVIDENCE = 5


class TFModeError(ValueError):
    """A mode that is none of auto, 1, 2 (the message names where it was written)."""


@dataclass
class TFMode:
    """The mode a submission runs in and how it was chosen (``ingestion.json``'s ``tf_mode``)."""

    mode: str  # "1" or "2"
    chosen_by: str  # "flag", "submission" (its autodl.yaml) or "auto"
    evidence: list[str] = field(default_factory=list)  # "file:line name", at most 5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalize(value: Any, where: str) -> str:
    """``auto``, ``"1"`` or ``"2"`` from 1, 2, "1", "1.x", "tf1", "auto"...

    >>> normalize(1, "x"), normalize("TF2", "x"), normalize("1.x", "x")
    ('1', '2', '1')
    """
    text = str(value).strip().lower()
    text = text.removeprefix("tf").removesuffix(".x")
    if text in MODES:
        return text
    raise TFModeError(f"{where}: tf_mode must be auto, 1 or 2, not {value!r}")


def _dotted_names(source: str) -> list[tuple[str, int]]:
    """Every dotted name of the code (``tf.train.AdamOptimizer``) with its line; comments
    and strings are not code."""
    names: list[tuple[str, int]] = []
    parts: list[str] = []
    line = 0
    expect_name = True
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    try:
        for tok in tokens:
            if tok.type == tokenize.NAME and expect_name:
                if not parts:
                    line = tok.start[0]
                parts.append(tok.string)
                expect_name = False
            elif tok.type == tokenize.OP and tok.string == "." and parts and not expect_name:
                expect_name = True
            else:
                if parts:
                    names.append((".".join(parts), line))
                parts, expect_name = [], True
                if tok.type == tokenize.OP and tok.string == ".":
                    parts = [""]  # `f().make_one_shot_iterator`: a method of a result
                    line = tok.start[0]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # what was read so far counts; a file Python cannot read fails at import
    if parts:
        names.append((".".join(parts), line))
    return names


def tf1_names(source: str) -> list[tuple[str, int]]:
    """The TF1-only names used by one file's code, with their lines.

    >>> tf1_names("import tensorflow as tf\\n# tf.Session in a comment\\n"
    ...           "it = ds.make_one_shot_iterator()\\nopt = tf.train.AdamOptimizer(1e-3)\\n")
    [('make_one_shot_iterator', 3), ('tf.train.AdamOptimizer', 4)]
    >>> tf1_names("import tensorflow as tf\\nmodel = tf.keras.Sequential()\\n")
    []
    """
    found = []
    for name, line in _dotted_names(source):
        last = name.rsplit(".", 1)[-1]
        if name.startswith("tf."):
            if any(name == p or name.startswith(p + ".") for p in TF1_NAMES):
                found.append((name, line))
                continue
            if _TF1_OPTIMIZER.match(name):
                found.append((name, line))
                continue
        if "." in name and last in TF1_METHODS:
            found.append((last, line))
    return found


def scan(code_dir: Path) -> list[str]:
    """``file:line name`` for the TF1-only names of a submission's ``.py`` files (at most
    :data:`MAX_EVIDENCE`), read in a fixed order and within the bounds above."""
    evidence: list[str] = []
    files = sorted(p for p in code_dir.rglob("*.py") if p.is_file() and not p.is_symlink())
    for path in files[:MAX_FILES]:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            source = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
        rel = path.relative_to(code_dir).as_posix()
        for name, line in tf1_names(source):
            evidence.append(f"{rel}:{line} {name}")
            if len(evidence) >= MAX_EVIDENCE:
                return evidence
    return evidence


def from_metadata(code_dir: Path) -> str | None:
    """The ``tf_mode`` of the submission's ``autodl.yaml``, or None when it says nothing.

    Raises :class:`TFModeError` naming the file when it cannot be read or holds a bad mode.
    """
    path = code_dir / METADATA_FILE
    if not path.is_file() or path.is_symlink():
        return None
    import yaml

    where = f"{METADATA_FILE} of the submission"
    if path.stat().st_size > 64 << 10:
        raise TFModeError(f"{where}: larger than 64 KiB")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise TFModeError(f"{where}: not readable YAML: {str(e).splitlines()[0]}") from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TFModeError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    if "tf_mode" not in data:
        return None
    return normalize(data["tf_mode"], f"{where}")


def choose(code_dir: str | os.PathLike[str], requested: str = "auto") -> TFMode:
    """The mode for the submission in ``code_dir`` (a folder), ``requested`` by the caller."""
    code_dir = Path(code_dir)
    requested = normalize(requested, "--tf-mode")
    if requested != "auto":
        return TFMode(requested, "flag")
    declared = from_metadata(code_dir)
    if declared is not None and declared != "auto":
        return TFMode(declared, "submission")
    evidence = scan(code_dir)
    return TFMode("1" if evidence else "2", "auto", evidence)
