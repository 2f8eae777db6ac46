"""Find keywords in a whole corpus at once, as numpy operations on code points.

A regex scan hands every match to Python; with a million messages that is a million
match objects. Here the corpus is one uint32 array of code points: positions of each
keyword's first character come from one comparison over the array, and each further
character narrows the candidates with another comparison, so the work per keyword is a
few vector operations whatever the number of matches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_CJK_LO, _CJK_HI = 0x2E80, 0x9FFF


def codepoints(text: str) -> np.ndarray:
    """The text as an array of Unicode code points (uint32)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def word_char(cp: np.ndarray) -> np.ndarray:
    """Latin or Cyrillic lower-case letters and digits: what a keyword may not touch.

    Chinese characters are not in it, so "学python" still matches "python".
    """
    return (
        ((cp >= 0x30) & (cp <= 0x39))
        | ((cp >= 0x61) & (cp <= 0x7A))
        | ((cp >= 0x430) & (cp <= 0x44F))
        | (cp == 0x451)
    )


def is_cjk(word: str) -> bool:
    """Whether a keyword contains a CJK character (matched anywhere, no boundaries)."""
    return any(_CJK_LO <= ord(c) <= _CJK_HI or 0xF900 <= ord(c) <= 0xFAFF for c in word)


def find_keywords(cp: np.ndarray, keywords: Sequence[str], boundaries: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(positions, keyword indexes) of every occurrence of every keyword in `cp`.

    With `boundaries`, a non-CJK keyword must start a word, and one of three letters
    or fewer must also end it ("ai" is not found in "aim"; "программ" is found in
    "программирование"). Keywords are compared as given (lower-case the corpus and
    the keywords alike).
    """
    n = cp.size
    out_pos, out_kw = [], []
    by_first: dict[int, np.ndarray] = {}
    for k, kw in enumerate(keywords):
        if not kw:
            continue
        kcp = codepoints(kw).astype(np.uint32)
        L = kcp.size
        first = int(kcp[0])
        if first not in by_first:
            by_first[first] = np.flatnonzero(cp == first)
        cand = by_first[first]
        cand = cand[cand + L <= n]
        for j in range(1, L):
            if cand.size == 0:
                break
            cand = cand[cp[cand + j] == kcp[j]]
        if cand.size and boundaries and not is_cjk(kw):
            before = np.zeros(cand.size, bool)
            has = cand > 0
            before[has] = word_char(cp[cand[has] - 1])
            cand = cand[~before]
            if L <= 3 and cand.size:
                after = np.zeros(cand.size, bool)
                has = cand + L < n
                after[has] = word_char(cp[cand[has] + L])
                cand = cand[~after]
        if cand.size:
            out_pos.append(cand)
            out_kw.append(np.full(cand.size, k, np.int64))
    if not out_pos:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_pos).astype(np.int64), np.concatenate(out_kw)


def docs_of(positions: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of the text each position falls in, given the texts' start offsets."""
    return np.searchsorted(starts, positions, side="right") - 1
