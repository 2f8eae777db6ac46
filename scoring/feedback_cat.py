"""Categorising members' feedback by character n-gram similarity.

Pure: text in, a category and its score out. Works without word boundaries (Chinese,
Japanese) because everything is character n-grams. Two sources of evidence per
category:

- its keywords (from the community's taxonomy in the config): how much of a keyword's
  n-grams the text contains, so "refunded" still matches "refund" and "退款了" matches
  "退款";
- items admins have already categorised (or corrected): cosine similarity of n-gram
  vectors to the closest such example, so one correction changes the prediction for
  similar feedback from then on.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

#: A keyword of 6+ characters counts as present when at least this share of its n-grams
#: is in the text (a typo or another inflection still matches); shorter ones need all.
KEYWORD_HIT = 0.8
LONG_KEYWORD = 6
#: Below this score nothing is guessed: the item stays uncategorised for an admin.
MIN_SCORE = 0.2
#: Weight of the closest admin-labelled example against keyword evidence.
EXAMPLE_WEIGHT = 1.2

_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def normalise(text: str) -> str:
    """NFKC, lower case, punctuation to spaces, runs of spaces collapsed."""
    t = unicodedata.normalize("NFKC", text or "").casefold()
    t = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in t)
    return _SPACE.sub(" ", t).strip()


def ngrams(text: str, sizes: tuple[int, ...] = (2, 3)) -> Counter[str]:
    """Character n-grams of a normalised text; single CJK characters count too
    (one Chinese character often is a word)."""
    t = normalise(text)
    out: Counter[str] = Counter()
    padded = f" {t} "
    for n in sizes:
        for i in range(len(padded) - n + 1):
            g = padded[i : i + n]
            if g.strip():
                out[g] += 1
    for ch in t:
        if _CJK.match(ch):
            out[ch] += 1
    return out


def _keyword_grams(keyword: str) -> Counter[str]:
    t = normalise(keyword)
    if len(t) == 1:
        return Counter({t: 1})
    # A space before a keyword in a spaced script anchors it to a word start ("wish"
    # must not match inside "finishing"); none after it, so "refund" still matches
    # "refunded". Chinese has no spaces to anchor to.
    if not _CJK.match(t[0]):
        t = " " + t
    out: Counter[str] = Counter()
    for n in (2, 3):
        for i in range(len(t) - n + 1):
            g = t[i : i + n]
            if g.strip():
                out[g] += 1
    return out or Counter({t: 1})


def containment(keyword: Counter[str], text: Counter[str]) -> float:
    """Share of the keyword's n-grams found in the text (0..1)."""
    total = sum(keyword.values())
    if not total:
        return 0.0
    return sum(min(c, text.get(g, 0)) for g, c in keyword.items()) / total


def cosine(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two n-gram count vectors."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(c * b.get(g, 0) for g, c in a.items())
    na = math.sqrt(sum(c * c for c in a.values()))
    nb = math.sqrt(sum(c * c for c in b.values()))
    return dot / (na * nb)


@dataclass(frozen=True)
class Guess:
    """The categoriser's answer with its reason (which keyword or example decided)."""

    category: str
    score: float
    reason: str
    scores: dict[str, float] = field(default_factory=dict)


class Categoriser:
    """Keyword taxonomy plus admin-labelled examples; `learn` adds an example."""

    def __init__(self, taxonomy: dict[str, list[str]], examples: list[tuple[str, str]] | None = None) -> None:
        self.categories = list(taxonomy)
        self._keywords = {c: [(k, _keyword_grams(k)) for k in kws if normalise(k)] for c, kws in taxonomy.items()}
        self._examples: list[tuple[str, str, Counter[str]]] = []
        for text, cat in examples or []:
            self.learn(text, cat)

    def learn(self, text: str, category: str) -> None:
        """Remember an admin's categorisation (a new category is accepted too)."""
        if category and category not in self.categories:
            self.categories.append(category)
        if category:
            self._examples.append((text, category, ngrams(text)))

    def keyword_score(self, category: str, grams: Counter[str]) -> tuple[float, str]:
        """1 - exp(-sum of hits): one clear keyword gives ~0.6, two ~0.85."""
        hits = []
        for kw, kg in self._keywords.get(category, []):
            c = containment(kg, grams)
            if c >= (KEYWORD_HIT if len(normalise(kw)) >= LONG_KEYWORD else 1.0):
                hits.append((c * min(1.0, 0.5 + len(kg) / 8), kw))
        if not hits:
            return 0.0, ""
        total = sum(h for h, _ in hits)
        best = max(hits)[1]
        return 1 - math.exp(-1.0 * total), f"keyword “{best}”"

    def example_score(self, category: str, grams: Counter[str]) -> tuple[float, str]:
        """Similarity to the closest admin-labelled example of the category."""
        best, why = 0.0, ""
        for text, cat, eg in self._examples:
            if cat != category:
                continue
            s = cosine(grams, eg)
            if s > best:
                best, why = s, f"like “{text[:40]}”"
        return best * EXAMPLE_WEIGHT, why

    def predict(self, text: str) -> Guess:
        """The best category, or "" with score 0 when nothing is similar enough."""
        grams = ngrams(text)
        scores: dict[str, float] = {}
        reasons: dict[str, str] = {}
        for cat in self.categories:
            k, kw_why = self.keyword_score(cat, grams)
            e, ex_why = self.example_score(cat, grams)
            # Keywords and examples add up, but the larger one leads: a close example
            # beats a stray keyword of another category.
            scores[cat] = max(k, e) + 0.25 * min(k, e)
            reasons[cat] = ex_why if e >= k else kw_why
        if not scores:
            return Guess("", 0.0, "no categories", {})
        cat = max(scores, key=lambda c: scores[c])
        if scores[cat] < MIN_SCORE:
            return Guess("", scores[cat], "nothing similar enough", scores)
        return Guess(cat, scores[cat], reasons[cat], scores)
