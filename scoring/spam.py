"""The spam classifier: character n-grams, a linear model that keeps learning.

Character n-grams (2–5, within word boundaries) work for English, Russian and Chinese
alike without a tokeniser. Features are hashed (`HashingVectorizer`), so there is no
vocabulary to grow and a moderator's decision can be learned at once with
`SGDClassifier.partial_fit` (logistic loss, so scores are probabilities). The reason
of every verdict names the n-grams that pushed the score most.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections import Counter, _count_elements  # the C counter behind Counter.update
from collections.abc import Sequence
from dataclasses import dataclass
from operator import mul

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.utils import murmurhash3_32

from scoring import textnorm
from scoring.checks import Check, CheckContext, CheckSettings, Verdict, _s
from scoring.textnorm import has_cjk, strip_invisible
from storage.events import EventKind

N_FEATURES = 2**18
NGRAMS = (2, 5)
_DIGITS = re.compile(r"\d")


def preprocess(text: str) -> str:
    """Fold width and case, drop invisible characters, map digits to 0 ($500 ≈ $300)."""
    t = unicodedata.normalize("NFKC", strip_invisible(text or "")).casefold()
    return _DIGITS.sub("0", t)


def _vectorizer() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        n_features=N_FEATURES,
        alternate_sign=False,
        preprocessor=preprocess,
        lowercase=False,
        norm="l2",
        dtype=np.float64,
    )


class SpamModel:
    """Hashed character n-grams + `SGDClassifier(loss="log_loss")`."""

    def __init__(self, alpha: float = 1e-5, seed: int = 0) -> None:
        self.vectorizer = _vectorizer()
        self.analyzer = self.vectorizer.build_analyzer()
        self.clf = SGDClassifier(loss="log_loss", alpha=alpha, random_state=seed, tol=None, max_iter=12)
        self.trained_on = 0
        self.updates = 0
        #: word → (its columns, the sum of their weights); emptied whenever the weights change.
        self._words: dict[str, tuple[tuple[int, ...], float]] = {}
        self._intercept: float | None = None

    @property
    def fitted(self) -> bool:
        """Whether the model has learned anything yet."""
        return hasattr(self.clf, "coef_")

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> SpamModel:
        """Train from scratch; classes are balanced by sample weight (1 = spam)."""
        y = np.asarray(labels, dtype=int)
        if len(set(y.tolist())) != 2:
            raise ValueError("training needs both spam (1) and ham (0) examples")
        X = self.vectorizer.transform(texts)
        pos = max(int(y.sum()), 1)
        neg = max(len(y) - pos, 1)
        w = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
        self.clf.fit(X, y, sample_weight=w)
        self.trained_on = len(y)
        self._changed()
        return self

    def learn(self, text: str, label: int, weight: float = 2.0) -> None:
        """Learn one labelled message now (a moderator's decision)."""
        X = self.vectorizer.transform([text])
        self.clf.partial_fit(X, np.array([int(label)]), classes=np.array([0, 1]), sample_weight=np.array([weight]))
        self.updates += 1
        self._changed()

    def _changed(self) -> None:
        """Forget the per-word sums: the weights they were computed from changed."""
        self._words = {}
        self._intercept = None

    def _word(self, word: str) -> tuple[tuple[int, ...], float]:
        """A (preprocessed) word's columns and the sum of their weights (cached)."""
        hit = self._words.get(word)
        if hit is None:
            cols = word_columns(word)
            hit = (cols, float(self.clf.coef_[0].take(cols).sum()))
            if len(self._words) >= 50_000:  # bounded: common words come back quickly
                self._words.clear()
            self._words[word] = hit
        return hit

    def margin(self, text: str) -> float:
        """The linear score (log-odds of spam) of one text, as `HashingVectorizer` and
        `decision_function` would compute it, without their per-call overhead.

        char_wb n-grams never cross a space, so a text's columns are its words' columns
        put together, and its weighted sum is the sum of its words' sums: chat repeats
        its words, so each word's is computed once (until the model learns). Only the
        l2 norm needs the text's own column counts."""
        if self._intercept is None:
            self._intercept = float(self.clf.intercept_[0])
        if textnorm._native is not None:  # the same sums, in C (scoring/_native.c)
            dot, sq = textnorm._native.margin_parts(preprocess(text).split(), self._words, self._word)
        else:
            counts: dict[int, int] = {}
            dot = 0.0
            words = self._words
            for w in preprocess(text).split():
                hit = words.get(w) or self._word(w)
                dot += hit[1]
                _count_elements(counts, hit[0])
            v = counts.values()
            sq = sum(map(mul, v, v))
        if not sq:
            return self._intercept
        return dot / math.sqrt(sq) + self._intercept

    def probability(self, text: str) -> float:
        """Probability that `text` is spam."""
        if not self.fitted:
            return 0.0
        m = self.margin(text)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, m))))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities for many texts at once."""
        return self.clf.predict_proba(self.vectorizer.transform(texts))[:, 1]

    def explain(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The `k` words (or, in unspaced Chinese, n-grams) that raised the score most.

        char_wb n-grams never cross a space, so each belongs to one word; a word's
        contribution is the sum of its n-grams' weights. That names "earn" or "微信"
        instead of fragments like "ar".
        """
        if not self.fitted:
            return []
        grams = Counter(self.analyzer(text))
        if not grams:
            return []
        coef = self.clf.coef_[0]
        norm = math.sqrt(sum(c * c for c in _index_counts(grams).values())) or 1.0
        weight = {g: coef[feature_index(g)] / norm for g in grams}
        lo, hi = NGRAMS
        scored: dict[str, float] = {}
        # preprocess() keeps spacing, so its words line up with the shown words.
        shown = unicodedata.normalize("NFKC", strip_invisible(text)).casefold().split()
        for word, display in dict(zip(preprocess(text).split(), shown, strict=False)).items():
            padded = f" {word} "
            spans = [(i, n) for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
            if len(word) > 8 and has_cjk(word):
                # An unspaced Chinese run is a sentence, not a word: name its best n-gram,
                # cut from the shown text (preprocessing keeps positions) and with letters in it.
                same = len(display) == len(word)
                shown_padded = f" {display} " if same else padded
                for i, n in spans:
                    g = padded[i : i + n]
                    name = shown_padded[i : i + n].strip(_PUNCT)
                    if len(name) >= 2 and weight.get(g, 0.0) > scored.get(name, 0.0) and any(ch.isalpha() for ch in name):
                        scored[name] = weight[g]
                continue
            total = sum(weight.get(padded[i : i + n], 0.0) for i, n in spans)
            name = display.strip(_PUNCT) or display
            if total > 0:
                scored[name] = scored.get(name, 0.0) + total
        top = sorted(scored.items(), key=lambda p: -p[1])
        out: list[tuple[str, float]] = []
        for w, c in top:
            if any(w in o for o, _ in out):
                continue
            out.append((w, float(c)))
            if len(out) == k:
                break
        return out

    def to_bytes(self) -> bytes:
        """Serialise the learned weights (sparse, compressed) without pickle."""
        coef = self.clf.coef_[0]
        nz = np.flatnonzero(coef)
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            idx=nz.astype(np.int32),
            val=coef[nz],
            intercept=self.clf.intercept_,
            meta=np.array([self.clf.t_, self.clf.alpha, self.trained_on, self.updates, N_FEATURES, *NGRAMS], dtype=np.float64),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SpamModel:
        """Load weights written by `to_bytes`; the model can keep learning."""
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
            t, alpha, trained_on, updates, nf, lo, hi = z["meta"].tolist()
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise ValueError(f"not a spam model file ({exc})") from exc
        if int(nf) != N_FEATURES or (int(lo), int(hi)) != NGRAMS:
            raise ValueError("spam model was saved with other feature settings; retrain it")
        m = cls(alpha=alpha)
        coef = np.zeros((1, N_FEATURES))
        coef[0, z["idx"]] = z["val"]
        m.clf.coef_ = coef
        m.clf.intercept_ = np.array(z["intercept"], dtype=np.float64)
        m.clf.classes_ = np.array([0, 1])
        m.clf.t_ = t
        m.clf.n_features_in_ = N_FEATURES
        m.trained_on, m.updates = int(trained_on), int(updates)
        m._changed()
        return m


_WORDS: dict[str, tuple[int, ...]] = {}
_PUNCT = " ,.:;!?()[]\"'«»“”，。：；！？、（）"


def feature_index(gram: str) -> int:
    """The hashed column of an n-gram, as `HashingVectorizer` computes it."""
    return abs(murmurhash3_32(gram, seed=0, positive=False)) % N_FEATURES


def word_columns(word: str) -> tuple[int, ...]:
    """The columns of one (preprocessed) word's char_wb n-grams, a column once per
    n-gram, as `HashingVectorizer._char_wb_ngrams` pads and cuts it."""
    cols = _WORDS.get(word)
    if cols is None:
        w = f" {word} "
        grams = []
        lo, hi = NGRAMS
        for n in range(lo, hi + 1):
            grams.extend(w[i : i + n] for i in range(max(len(w) - n + 1, 1)))
            if len(w) <= n:  # a short word counts once, as sklearn does
                break
        cols = tuple(map(feature_index, grams))
        if len(_WORDS) >= 50_000:  # bounded: common words come back quickly
            _WORDS.clear()
        _WORDS[word] = cols
    return cols


def _index_counts(grams: Counter) -> Counter:
    out: Counter = Counter()
    for g, c in grams.items():
        out[feature_index(g)] += c
    return out


@dataclass
class SpamSettings(CheckSettings):
    """The spam classifier's thresholds."""

    enabled: bool = _s(True, "Run the spam classifier.")
    threshold: float = _s(0.85, "Spam probability at which a message is flagged.")
    ban_threshold: float = _s(0.97, "Probability at which the severity becomes high (ban in enforce mode).")
    min_chars: int = _s(12, "Shorter messages are not classified ('ok', '+1').")


class SpamCheck(Check):
    """The classifier as a check: probability plus the strongest n-grams as reason."""

    name = "spam"
    # Commands are instructions to the bot ("/warn @bob 100 because"), not chat the model
    # learned from; raid, repeat and blocklist still see them.
    kinds = frozenset({EventKind.MESSAGE, EventKind.EDIT})
    settings_cls = SpamSettings

    def __init__(self, model: SpamModel) -> None:
        self.model = model

    def check(self, ctx: CheckContext, s: SpamSettings) -> Verdict:
        text = ctx.event.text or ""
        if len(text.strip()) < s.min_chars:
            return self.ok("spam n/a (short text)")
        p = self.model.probability(text)
        if p < s.threshold:
            return self.ok(f"spam {p:.2f} < {s.threshold:.2f}", p)
        grams = ", ".join(repr(g.strip()) for g, _ in self.model.explain(text))
        severity = "high" if p >= s.ban_threshold else "medium"
        return self.hit(f"spam {p:.2f} ≥ {s.threshold:.2f}: {grams}", severity, p)
