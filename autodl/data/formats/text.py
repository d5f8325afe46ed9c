"""Tokens and vocabularies for text tasks (English and Chinese, nothing downloaded).

English (and any space-separated language) is split on whitespace: AutoNLP and the AutoDL
kit ship texts already tokenized. Chinese has no spaces, so it is cut into characters,
keeping runs of Latin letters and digits whole, the usual character-level baseline.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_ZH_TOKEN = re.compile(r"[A-Za-z0-9]+|\S")


def guess_language(texts: Iterable[str], sample: int = 200) -> str:
    """ "ZH" when CJK characters make up over a fifth of the non-space characters, else "EN"."""
    cjk = other = 0
    for i, text in enumerate(texts):
        if i >= sample:
            break
        cjk += len(_CJK.findall(text))
        other += sum(1 for ch in text if not ch.isspace())
    return "ZH" if other and cjk / other > 0.2 else "EN"


def tokenize(text: str, language: str = "EN") -> list[str]:
    """Split one text into tokens.

    >>> tokenize("a stirring , funny film")
    ['a', 'stirring', ',', 'funny', 'film']
    >>> tokenize("我爱AutoDL 2019!", "ZH")
    ['我', '爱', 'AutoDL', '2019', '!']
    """
    if language.upper().startswith("ZH"):
        return _ZH_TOKEN.findall(text)
    return text.split()


def build_vocabulary(documents: Iterable[list[str]]) -> dict[str, int]:
    """token -> index, most frequent first (ties: first seen first), so it is deterministic."""
    counts: Counter[str] = Counter()
    for tokens in documents:
        counts.update(tokens)
    # Counter keeps first-seen order; a stable sort on count alone keeps it for ties.
    ordered = sorted(counts, key=lambda token: -counts[token])
    return {token: i for i, token in enumerate(ordered)}


def encode(tokens: list[str], vocabulary: dict[str, int]) -> list[int]:
    return [vocabulary[t] for t in tokens]
