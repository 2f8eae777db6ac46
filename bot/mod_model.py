"""The spam classifier's data and lifecycle: the base model, training files, evaluation.

The base model is trained at first use from the project's own generated corpus
(`scoring.spam_corpus`, English/Chinese/Russian) plus the tg-spam samples shipped in
`bot/spamdata/` (MIT). Nothing binary is shipped; the result is cached per process and
on disk (`base_model_cache_dir()`), under a key made of the corpus, the classifier's
code and the numpy and scikit-learn versions: training took 0.9 s of every start (each
CLI command, the console, every shard worker), loading the cached weights takes 7 ms.
A file written by `communitybot train` (config `[moderation] model_path`) replaces the
base model when present.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import GroupKFold, StratifiedKFold

import scoring.spam
from scoring.spam import SpamModel
from scoring.spam_corpus import generate

log = logging.getLogger(__name__)

_BASE: bytes | None = None


class TrainingDataError(ValueError):
    """A training or evaluation file could not be read; the message names file and line."""


def shipped_samples() -> tuple[list[str], list[int]]:
    """The tg-spam samples shipped in `bot/spamdata/` as (texts, labels)."""
    root = resources.files("bot.spamdata")
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("tg-spam-spam.txt", 1), ("tg-spam-ham.txt", 0)):
        for line in root.joinpath(name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
    return texts, labels


def base_corpus() -> tuple[list[str], list[int], list[str]]:
    """Generated plus shipped samples: (texts, labels, group ids for held-out CV)."""
    gen = generate()
    st, sl = shipped_samples()
    texts = [s.text for s in gen] + st
    labels = [s.label for s in gen] + sl
    groups = [s.template for s in gen] + [f"tg-spam-{i}" for i in range(len(st))]
    return texts, labels, groups


def base_model_cache_dir() -> Path | None:
    """Where the trained base model is kept between runs: `COMMUNITYBOT_CACHE_DIR`
    (empty: no disk cache), else `$XDG_CACHE_HOME/communitybot` or `~/.cache/communitybot`."""
    env = os.environ.get("COMMUNITYBOT_CACHE_DIR")
    if env is not None:
        return Path(env).expanduser() if env.strip() else None
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "communitybot"


def _cache_key(texts: Sequence[str], labels: Sequence[int]) -> str:
    # Everything the weights depend on: the training data, the code that trains, and the
    # libraries under it (a new scikit-learn may fit differently).
    h = hashlib.sha256()
    for part in (sklearn.__version__, np.__version__, Path(scoring.spam.__file__).read_bytes()):
        h.update(part if isinstance(part, bytes) else part.encode())
        h.update(b"\x00")
    h.update("\x00".join(texts).encode())
    h.update(bytes(labels))
    return h.hexdigest()[:32]


def _cached_base(texts: Sequence[str], labels: Sequence[int]) -> bytes:
    """The base model's bytes from the disk cache, or trained and written there."""
    root = base_model_cache_dir()
    path = root / f"base-model-{_cache_key(texts, labels)}.npz" if root is not None else None
    if path is not None and path.exists():
        try:
            data = path.read_bytes()
            SpamModel.from_bytes(data)  # a truncated or foreign file is trained again
            return data
        except (OSError, ValueError) as exc:
            log.warning("cached base spam model %s is unreadable (%s); training it again", path, exc)
    data = SpamModel().fit(texts, labels).to_bytes()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole, then renamed: shard workers starting together never read half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".base-model-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except OSError:
                Path(tmp).unlink(missing_ok=True)  # a full disk leaves no half-written file
                raise
        except OSError as exc:
            log.debug("could not cache the base spam model in %s: %s", path.parent, exc)
    return data


def base_model() -> SpamModel:
    """A fresh copy of the base model (trained once, then read from the disk cache)."""
    global _BASE
    if _BASE is None:
        texts, labels, _ = base_corpus()
        _BASE = _cached_base(texts, labels)
    return SpamModel.from_bytes(_BASE)


def load_model(path: str | None) -> SpamModel:
    """The model in `path` when it exists, else the base model."""
    if path and Path(path).exists():
        try:
            return SpamModel.from_bytes(Path(path).read_bytes())
        except (ValueError, OSError, KeyError) as exc:
            raise TrainingDataError(f"{path}: not a spam model written by `communitybot train` ({exc})") from exc
    return base_model()


def read_labelled(path: str, default_label: int | None = None) -> tuple[list[str], list[int]]:
    """Read a training file: one message a line (with `default_label`), or
    `label<TAB>text` lines where label is spam/ham/1/0."""
    p = Path(path)
    if not p.exists():
        raise TrainingDataError(f"{path}: file not found")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TrainingDataError(f"{path}: not UTF-8 text ({exc})") from exc
    texts: list[str] = []
    labels: list[int] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        head, tab, rest = line.partition("\t")
        label = _label(head.strip()) if tab else None
        if label is not None:
            text = rest.strip()
        elif default_label is not None:
            label, text = default_label, line.strip()
        else:
            raise TrainingDataError(
                f"{path}:{n}: expected 'label<TAB>text' with label spam, ham, 1 or 0; got {line[:40]!r}"
            )
        if text:
            texts.append(text)
            labels.append(label)
    if not texts:
        raise TrainingDataError(f"{path}: no messages found")
    return texts, labels


def _label(s: str) -> int | None:
    s = s.lower()
    if s in ("spam", "1"):
        return 1
    if s in ("ham", "0", "not_spam", "notspam"):
        return 0
    return None


@dataclass
class Scores:
    """Precision, recall, F1 and false-positive rate at one threshold."""

    n: int
    spam: int
    precision: float
    recall: float
    f1: float
    fpr: float
    threshold: float

    def line(self) -> str:
        """One printable line."""
        return (
            f"n={self.n} spam={self.spam} threshold={self.threshold:.2f}  precision {self.precision:.3f}  "
            f"recall {self.recall:.3f}  F1 {self.f1:.3f}  FPR {self.fpr:.2%}"
        )


def score(labels: Sequence[int], probs: Sequence[float], threshold: float) -> Scores:
    """Binary metrics of probabilities against labels at `threshold`."""
    y = np.asarray(labels, dtype=int)
    pred = np.asarray(probs) >= threshold
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    neg = int((y == 0).sum())
    fpr = float((pred & (y == 0)).sum() / neg) if neg else 0.0
    return Scores(len(y), int(y.sum()), float(p), float(r), float(f), fpr, threshold)


def cross_validate(texts: Sequence[str], labels: Sequence[int], groups: Sequence[str] | None = None, folds: int = 5) -> np.ndarray:
    """Out-of-fold spam probabilities: stratified folds, or whole groups held out."""
    X = np.array(list(texts), dtype=object)
    y = np.asarray(labels, dtype=int)
    probs = np.zeros(len(y))
    split = GroupKFold(folds).split(X, y, groups) if groups is not None else StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y)
    for tr, te in split:
        m = SpamModel().fit(list(X[tr]), y[tr])
        probs[te] = m.probabilities(list(X[te]))
    return probs
