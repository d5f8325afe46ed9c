"""Built-in sample datasets: one or more per domain, made deterministically on this machine.

>>> from autodl.data import samples
>>> samples.names()
['breast_cancer', 'cluttered_digits', 'digits', 'reviews', 'shapes', 'tones', 'topics', 'wine']
>>> task = samples.resolve("digits")       # built on first use, then reused  # doctest: +SKIP

Image and tabular sets come from the data scikit-learn ships (no download;
``cluttered_digits`` distorts ``digits`` from a fixed seed); video, speech and text are
synthesised from a fixed seed. ``cluttered_digits`` (the default of ``autodl run``) and
``topics`` are hard on purpose, so that learning curves rise over a run; the others are
quick checks of each domain. Each has a dataset card in ``datasets/``.
The split is a seeded stratified 80/20 split, so two builds are identical.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from autodl.data.formats._base import RawTask, Split, one_hot, split_task

SEED = 0
# Bump when a recipe changes, so caches built by an older recipe are not reused.
RECIPE_VERSION = "1"


def _sklearn(loader: str, domain: str) -> Callable[[], RawTask]:
    def build() -> RawTask:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)()
        name = loader[len("load_") :]
        y = bunch.target
        label_names = [str(n) for n in bunch.target_names]
        if domain == "image":
            # digits: 8x8 grey levels 0..16
            x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :, None]
            shape, feature_names = (1, 8, 8, 1), None
        else:
            x = bunch.data.astype(np.float32)[:, None, None, :, None]
            shape, feature_names = (1, 1, x.shape[3], 1), [str(f) for f in bunch.feature_names]
        return RawTask(
            name=name,
            kind="dense",
            domain=domain,
            train=Split(list(x), one_hot(y, len(label_names))),
            test=None,
            shape=shape,
            label_names=label_names,
            feature_names=feature_names,
        )

    return build


def _shapes() -> RawTask:
    """Video: a bright 4x4 square crossing a noisy 16x16 frame in one of four directions."""
    rng = np.random.default_rng(SEED)
    directions = ["left", "right", "up", "down"]
    steps = {"left": (0, -1), "right": (0, 1), "up": (-1, 0), "down": (1, 0)}
    frames, size, box, per_class = 8, 16, 4, 50
    videos, labels = [], []
    for k, direction in enumerate(directions):
        dr, dc = steps[direction]
        for _ in range(per_class):
            speed = 1  # one pixel a frame keeps the whole path inside 16x16
            span = (frames - 1) * speed
            lo_r, hi_r = (span, size - box) if dr < 0 else (0, size - box - span * abs(dr))
            lo_c, hi_c = (span, size - box) if dc < 0 else (0, size - box - span * abs(dc))
            r0, c0 = int(rng.integers(lo_r, hi_r + 1)), int(rng.integers(lo_c, hi_c + 1))
            video = rng.normal(0.1, 0.05, (frames, size, size, 1))
            for t in range(frames):
                r, c = r0 + dr * speed * t, c0 + dc * speed * t
                video[t, r : r + box, c : c + box, 0] += rng.uniform(0.6, 0.9)
            videos.append(np.clip(video, 0, 1).astype(np.float32))
            labels.append(k)
    return RawTask(
        name="shapes",
        kind="dense",
        domain="video",
        train=Split(videos, one_hot(labels, len(directions))),
        test=None,
        shape=(frames, size, size, 1),
        label_names=directions,
    )


def _tones() -> RawTask:
    """Speech-like audio: 0.25 s clips at 8 kHz of four sound shapes, with noise."""
    rng = np.random.default_rng(SEED)
    rate, seconds, per_class = 8000, 0.25, 50
    classes = ["rising", "falling", "steady", "two-tone"]
    n = int(rate * seconds)
    t = np.arange(n) / rate
    clips, labels = [], []
    for k, kind in enumerate(classes):
        for _ in range(per_class):
            f0 = rng.uniform(300, 900)
            if kind == "rising":
                freq = f0 * (1 + t / seconds)
            elif kind == "falling":
                freq = f0 * (2 - t / seconds)
            elif kind == "steady":
                freq = np.full(n, f0)
            else:
                freq = np.where(t < seconds / 2, f0, 1.5 * f0)
            phase = 2 * np.pi * np.cumsum(freq) / rate
            envelope = np.minimum(1.0, np.minimum(t, seconds - t) / 0.02)  # no clicks
            wave = rng.uniform(0.3, 0.8) * envelope * np.sin(phase + rng.uniform(0, 2 * np.pi))
            wave += rng.normal(0, 0.05, n)
            clips.append(np.clip(wave, -1, 1).astype(np.float32).reshape(n, 1, 1, 1))
            labels.append(k)
    task = RawTask(
        name="tones",
        kind="dense",
        domain="speech",
        train=Split(clips, one_hot(labels, len(classes))),
        test=None,
        shape=(n, 1, 1, 1),
        label_names=classes,
    )
    task.info["sample_rate"] = str(rate)
    return task


_POSITIVE = "great wonderful moving funny brilliant charming superb delightful".split()
_NEGATIVE = "dull boring awful clumsy tedious bland weak dreadful".split()
_NOUNS = "film story cast script plot ending director soundtrack".split()
_FILLER = "the a this its and but with really quite very so rather".split()
_TEMPLATES = [
    "{f} {n} is {a}",
    "{f} {n} was {a} and {f} {n} {v} {a}",
    "i found {f} {n} {a}",
    "{a} {n} , {f} {a} {n}",
    "what a {a} {n}",
]


def _reviews() -> RawTask:
    """Text: templated English film reviews, positive or negative, some words shared.

    One adjective in five is taken from the other side, so the task is not trivially
    separable from a single word.
    """
    from autodl.data.formats import text as textmod

    rng = np.random.default_rng(SEED)
    per_class = 200
    docs, labels = [], []
    for k, (own, other) in enumerate(((_NEGATIVE, _POSITIVE), (_POSITIVE, _NEGATIVE))):
        for _ in range(per_class):
            parts = []
            for _ in range(int(rng.integers(1, 3, endpoint=True))):
                template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
                parts.append(
                    template.format(
                        f=rng.choice(_FILLER),
                        n=rng.choice(_NOUNS),
                        a=rng.choice(own if rng.random() > 0.2 else other),
                        v=rng.choice(["felt", "seemed", "was"]),
                    )
                )
            docs.append(" . ".join(parts).split())
            labels.append(k)
    vocabulary = textmod.build_vocabulary(docs)
    ids = [np.asarray(textmod.encode(d, vocabulary), dtype=np.int64) for d in docs]
    task = RawTask(
        name="reviews",
        kind="sparse",
        domain="text",
        train=Split(ids, one_hot(labels, 2)),
        test=None,
        shape=(-1, 1, 1, len(vocabulary)),
        label_names=["negative", "positive"],
        vocabulary=vocabulary,
    )
    task.info["language"] = "EN"
    return task


def _cluttered_digits() -> RawTask:
    """Image: each scikit-learn digit enlarged, rotated and placed anywhere on a noisy 32x32
    canvas among fragments of other digits.

    The digit moves, so no pixel means the same thing twice: a linear model on the pixels
    stays near chance while a CNN learns over tens of seconds. One picture per source
    digit, so no digit is both in train and in test.
    """
    import sklearn.datasets
    from scipy import ndimage

    rng = np.random.default_rng(SEED)
    bunch = sklearn.datasets.load_digits()
    source = bunch.images / 16.0
    size, piece, fragments, noise = 32, 8, 3, 0.15
    images = np.empty((len(source), size, size), np.float32)
    for i in range(len(source)):
        canvas = np.zeros((size, size))
        for _ in range(fragments):
            other = ndimage.zoom(source[rng.integers(len(source))], 2.0, order=1)
            r, c = rng.integers(0, 16 - piece + 1, 2)
            at_r, at_c = rng.integers(0, size - piece + 1, 2)
            window = canvas[at_r : at_r + piece, at_c : at_c + piece]
            np.maximum(window, other[r : r + piece, c : c + piece], out=window)
        digit = ndimage.zoom(source[i], rng.uniform(1.6, 2.4), order=1)
        digit = np.clip(ndimage.rotate(digit, rng.uniform(-35, 35), order=1), 0, 1)
        h, w = digit.shape
        at_r, at_c = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
        window = canvas[at_r : at_r + h, at_c : at_c + w]
        np.maximum(window, digit, out=window)
        canvas = canvas * rng.uniform(0.5, 1.0) + rng.normal(0, noise, canvas.shape)
        images[i] = np.clip(canvas, 0, 1)
    label_names = [str(n) for n in bunch.target_names]
    return RawTask(
        name="cluttered_digits",
        kind="dense",
        domain="image",
        train=Split(list(images[:, None, :, :, None]), one_hot(bunch.target, len(label_names))),
        test=None,
        shape=(1, size, size, 1),
        label_names=label_names,
    )


def _pseudo_words(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct pronounceable made-up words of two or three syllables."""
    onsets, vowels = list("bdfgklmnprstvz"), list("aeiou")
    words: dict[str, None] = {}
    while len(words) < count:
        syllables = int(rng.integers(2, 3, endpoint=True))
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
        words[word] = None
    return list(words)


def _topics() -> RawTask:
    """Text: documents on one of eight topics, mostly made of words every topic uses.

    One word in fifty is the topic's own or shared with a neighbouring topic. Every topic
    also uses the same two-word phrases equally often, each topic in its own orders ("a b"
    or "b a"): word counts say nothing of them, only the order does. So a bag of words
    gets a little, and a model of word pairs gets more, as it trains.
    """
    from autodl.data.formats import text as textmod

    rng = np.random.default_rng(SEED)
    n_topics, per_class, n_common, n_own, n_phrases = 8, 400, 1500, 30, 40
    signal, phrase_rate = 0.03, 0.1
    lexicon = _pseudo_words(rng, n_common + 2 * n_topics * n_own)
    zipf = 1.0 / np.arange(1, n_common + 1)
    zipf /= zipf.sum()
    pairs = rng.choice(300, size=(n_phrases, 2), replace=False)  # among the commonest words
    orders = rng.integers(0, 2, size=(n_topics, n_phrases))  # 1: the pair reversed
    shared0 = n_common + n_topics * n_own
    docs, labels = [], []
    for k in range(n_topics):
        own = n_common + k * n_own + np.arange(n_own)
        left = shared0 + ((k - 1) % n_topics) * n_own + np.arange(n_own)
        right = shared0 + k * n_own + np.arange(n_own)
        topic_words = np.concatenate([own, left, right])
        for _ in range(per_class):
            length = int(rng.integers(20, 80, endpoint=True))
            u = rng.random(length)
            common = rng.choice(n_common, size=length, p=zipf)
            rare = rng.choice(topic_words, size=length)
            picked = rng.integers(n_phrases, size=length)
            ids: list[int] = []
            for j in range(length):  # a phrase slot holds two words
                if u[j] < signal:
                    ids.append(int(rare[j]))
                elif u[j] < signal + phrase_rate:
                    pair = pairs[picked[j]]
                    ids.extend(int(w) for w in (pair[::-1] if orders[k, picked[j]] else pair))
                else:
                    ids.append(int(common[j]))
            docs.append([lexicon[i] for i in ids])
            labels.append(k)
    vocabulary = textmod.build_vocabulary(docs)
    encoded = [np.asarray(textmod.encode(d, vocabulary), dtype=np.int64) for d in docs]
    task = RawTask(
        name="topics",
        kind="sparse",
        domain="text",
        train=Split(encoded, one_hot(labels, n_topics)),
        test=None,
        shape=(-1, 1, 1, len(vocabulary)),
        label_names=[f"topic{k}" for k in range(n_topics)],
        vocabulary=vocabulary,
    )
    task.info["language"] = "synthetic"
    return task


RECIPES: dict[str, tuple[str, str, Callable[[], RawTask]]] = {
    "digits": (
        "image",
        "1,797 handwritten digits, 8x8 grey, 10 classes (scikit-learn)",
        _sklearn("load_digits", "image"),
    ),
    "wine": (
        "tabular",
        "178 wines, 13 features, 3 cultivars (scikit-learn)",
        _sklearn("load_wine", "tabular"),
    ),
    "breast_cancer": (
        "tabular",
        "569 tumours, 30 features, benign or malignant (scikit-learn)",
        _sklearn("load_breast_cancer", "tabular"),
    ),
    "shapes": (
        "video",
        "200 clips, 8 frames 16x16 grey, which way a square moves (synthetic)",
        _shapes,
    ),
    "tones": (
        "speech",
        "200 clips, 0.25 s at 8 kHz, rising/falling/steady/two-tone (synthetic)",
        _tones,
    ),
    "reviews": (
        "text",
        "400 templated English film reviews, positive or negative (synthetic)",
        _reviews,
    ),
    "cluttered_digits": (
        "image",
        "1,797 digits moved, turned and hidden among fragments on noisy 32x32 (synthetic)",
        _cluttered_digits,
    ),
    "topics": (
        "text",
        "3,200 made-up-language documents, 8 topics told by rare words and word order (synthetic)",
        _topics,
    ),
}


def names() -> list[str]:
    """The built-in dataset names, sorted."""
    return sorted(RECIPES)


def domain(name: str) -> str:
    return RECIPES[_check(name)][0]


def describe(name: str) -> str:
    """One line: what the dataset holds and where it comes from."""
    return RECIPES[_check(name)][1]


def _check(name: str) -> str:
    if name not in RECIPES:
        raise KeyError(f"no built-in dataset {name!r} (one of {', '.join(names())})")
    return name


def build(name: str) -> RawTask:
    """The dataset in memory, split into train and test (seeded, stratified)."""
    task = RECIPES[_check(name)][2]()
    task.train, task.test, _ = split_task(task, 0.2, SEED)
    return task


def make(name: str, out_dir: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write the built-in dataset ``name`` as the task folder ``out_dir/<name>``."""
    from autodl.data.formats._write import write

    return write(build(name), Path(out_dir), overwrite=overwrite)


def cache_dir() -> Path:
    """``$AUTODL_HOME/datasets`` (default ``~/.cache/autodl/datasets``)."""
    home = os.environ.get("AUTODL_HOME")
    root = Path(home) if home else Path.home() / ".cache" / "autodl"
    return root / "datasets"


def resolve(name_or_path: str | os.PathLike[str]) -> Path:
    """A path is returned as is; a built-in name is built on first use and reused after.

    Two processes resolving the same name at once both build, aside, and the first
    rename wins; the other's copy is discarded.
    """
    path = Path(name_or_path)
    if path.exists() or str(name_or_path) not in RECIPES:
        if not path.exists() and os.sep not in str(name_or_path):
            raise FileNotFoundError(
                f"{name_or_path}: neither a dataset folder nor a built-in dataset "
                f"(one of {', '.join(names())})"
            )
        return path
    name = str(name_or_path)
    root = cache_dir() / f"v{RECIPE_VERSION}"
    target = root / name
    if (target / f"{name}.data").is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    if target.exists():  # left by an interrupted build of an older version
        shutil.rmtree(target, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        built = make(name, scratch)
        try:
            os.rename(built, target)
        except OSError:
            # another process finished first; its copy is as good as ours
            if not (target / f"{name}.data").is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
