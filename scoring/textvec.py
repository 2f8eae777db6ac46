"""Character n-gram TF-IDF computed with numpy, for any script without a segmenter.

Texts are turned into one array of Unicode code points; every run of 3 letters inside
a word, and every pair of CJK characters, becomes a hashed n-gram column. This is what scikit-learn's
`TfidfVectorizer(analyzer="char_wb")` does, but vectorised over the whole corpus at
once, which matters at a million messages. Chinese needs no segmenter: its bigrams are
its words more often than not; Russian and English stems share trigrams across endings.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

BITS = 18
_MIX = np.uint64(0x9E3779B97F4A7C15)
#: Characters per chunk: bounds the temporary arrays to a few hundred MB.
CHUNK = 4_000_000


def _letters(cp: np.ndarray) -> np.ndarray:
    """True where a code point is part of a word (letters, CJK), False for spaces,
    ASCII punctuation and digits, CJK punctuation and full-width symbols."""
    ascii_word = ((cp >= 0x41) & (cp <= 0x5A)) | ((cp >= 0x61) & (cp <= 0x7A))
    other = cp >= 0xC0
    punct = ((cp >= 0x2000) & (cp <= 0x206F)) | ((cp >= 0x3000) & (cp <= 0x303F)) | ((cp >= 0xFF00) & (cp <= 0xFF20))
    return ascii_word | (other & ~punct)


def ngram_hashes(cp32: np.ndarray, ns: tuple[int, ...] = (2, 3), bits: int = BITS) -> tuple[np.ndarray, np.ndarray]:
    """(positions, buckets) of every in-word character n-gram of a text given as code
    points (lower-cased by the caller), hashed into 2**bits buckets."""
    cp = cp32.astype(np.uint64)
    ok = _letters(cp)
    pos_out, hash_out = [], []
    shift = np.uint64(64 - bits)
    for n in ns:
        if cp.size < n:
            continue
        m = cp.size - n + 1
        h = np.zeros(m, np.uint64)
        good = np.ones(m, bool)
        for k in range(n):
            h = h * np.uint64(0x110000) + cp[k : k + m]
            good &= ok[k : k + m]
            if n == 2:  # Latin and Cyrillic bigrams ("th", "ст") are noise; CJK ones are words
                good &= cp[k : k + m] >= 0x2E80
        h = h * np.uint64(n + 1)  # keep a bigram and a trigram from sharing a bucket
        pos = np.flatnonzero(good)
        pos_out.append(pos)
        hash_out.append(((h[pos] * _MIX) >> shift).astype(np.int64))
    if not pos_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(pos_out), np.concatenate(hash_out)


def count_matrices(
    cp: np.ndarray, starts: np.ndarray, specs: list[tuple[np.ndarray, np.ndarray, int]], bits: int = BITS
) -> list[sp.csr_matrix]:
    """Counts of hashed n-grams for several groupings of the same texts, hashing the
    corpus once.

    `cp`/`starts` are the frame's corpus (as code points) and text offsets. Each spec is
    (rows, weights, n_rows): `rows[i]` is the row text i adds to (-1: skip it) and
    `weights[i]` how much each of its n-grams counts there.
    """
    parts: list[list[sp.csr_matrix]] = [[] for _ in specs]
    for lo in range(0, cp.size, CHUNK):
        # Overlap by two characters so n-grams across the cut are not lost.
        hi = min(cp.size, lo + CHUNK + 2)
        pos, buckets = ngram_hashes(cp[lo:hi], bits=bits)
        keep = pos < CHUNK  # the overlap belongs to the next chunk
        pos, buckets = pos[keep] + lo, buckets[keep]
        doc = np.searchsorted(starts, pos, side="right") - 1
        for k, (rows, weights, n_rows) in enumerate(specs):
            r = rows[doc]
            ok = r >= 0
            m = sp.coo_matrix((weights[doc[ok]], (r[ok], buckets[ok])), shape=(n_rows, 1 << bits)).tocsr()
            parts[k].append(m)
    out = []
    for (_, _, n_rows), ps in zip(specs, parts, strict=True):
        total = sp.csr_matrix((n_rows, 1 << bits))
        for p in ps:
            total = total + p
        out.append(total.tocsr())
    return out


class CharTfidf:
    """TF-IDF over hashed character n-grams: fit on documents, transform queries."""

    def __init__(self, bits: int = BITS, max_df: float = 0.5) -> None:
        self.bits = bits
        self.max_df = max_df
        # Damped TF as log(1 + tf), applied by _mask: the transformer's own sublinear
        # 1 + log(tf) goes negative for the fractional weights of questions.
        self.transformer = TfidfTransformer(sublinear_tf=False)
        self.keep: np.ndarray | None = None

    def fit_transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Learn IDF from the documents' counts and return their L2-normalised vectors.

        N-grams in more than `max_df` of the documents ("th", "的") are dropped, as
        scikit-learn's `max_df` does: they make everyone look alike.
        """
        n_docs = max(int((counts.getnnz(axis=1) > 0).sum()), 1)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        # In a small group every term is in "many" documents: only prune from 10 up.
        limit = self.max_df * n_docs if n_docs >= 10 else n_docs
        self.keep = (df <= limit).astype(np.float64)
        return self.transformer.fit_transform(self._mask(counts)).tocsr()

    def _mask(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        damped = counts.copy()
        damped.data = np.log1p(damped.data)
        return damped @ sp.diags(self.keep) if self.keep is not None else damped

    def transform_text(self, text: str) -> sp.csr_matrix:
        """One query text as a 1 × 2**bits TF-IDF row (L2-normalised)."""
        _, buckets = ngram_hashes(np.frombuffer(text.lower().encode("utf-32-le"), np.uint32), bits=self.bits)
        c = sp.coo_matrix((np.ones(buckets.size), (np.zeros(buckets.size, np.int64), buckets)), shape=(1, 1 << self.bits)).tocsr()
        return self.transformer.transform(self._mask(c)).tocsr()
