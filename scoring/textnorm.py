"""Text normalisation and fingerprints shared by the moderation checks.

Spammers dodge word lists with fullwidth letters, Cyrillic lookalikes, leetspeak,
zero-width characters and dots inside words ("s.c.a.m"). `normalise()` undoes all of
that so a blocklist entry, normalised the same way, matches with word boundaries.
`shingles()` and `MinHasher` give near-duplicate detection that survives small edits
("join t.me/x !!" vs "Join t.me/x"), which exact matching would miss.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections import _count_elements  # the C counter behind Counter.update
from sys import intern
from zlib import crc32

import numpy as np

#: Zero-width and invisible formatting characters used to split words invisibly.
INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f")

# Cyrillic and Greek letters that look like Latin ones, plus common leetspeak. Applied
# to both the text and the blocklist entry, so Russian entries still match Russian text.
_LOOKALIKE = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "α": "a", "ο": "o", "ρ": "p", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "τ": "t",
        "υ": "u", "χ": "x",
    }
)
_LOOKALIKE_CHARS = frozenset(map(chr, _LOOKALIKE))
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEETISH = frozenset("013457@$")
_INNER_PUNCT = re.compile(r"(?<=\w)[.\-_*'’·•|/\\]+(?=\w)")
_INNER_PUNCT_CHARS = frozenset(".-_*'’·•|/\\")
_SPACED = re.compile(r"(?<![\w])(?:\w[ .\-_*·]+){2,}\w(?![\w])")
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"[\w@$]+")
_LATIN = re.compile(r"[a-z]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))
# Every character with a combining class, mapped to None (all 912 lie below U+1F000):
# str.translate counts them in C, where a Python loop over each character cost more
# than the rest of the symbols check.
_DROP_COMBINING = dict.fromkeys(c for c in range(0x300, 0x1F000) if unicodedata.combining(chr(c)))
_COMBINING = frozenset(map(chr, _DROP_COMBINING))
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")

# Any character that `symbol_stats` counts apart from plain visible ones: emoji,
# combining marks, invisible characters and the emoji presentation selector (U+FE0F).
_SYMBOLIC = frozenset(
    map(chr, {*_DROP_COMBINING, *_DROP_INVISIBLE, 0xFE0F, *range(0x1F000, 0x1FB00), *range(0x2600, 0x27C0), *range(0x2B00, 0x2C00)})
)


def strip_invisible(text: str) -> str:
    """Drop zero-width and other invisible formatting characters."""
    return text if INVISIBLE.isdisjoint(text) else text.translate(_DROP_INVISIBLE)


def _join_spaced(m: re.Match) -> str:
    # "s c a m" / "s.c.a.m": a run of single characters separated by spaces or dots.
    return re.sub(r"[ .\-_*·]+", "", m.group(0))


def _unleet(m: re.Match) -> str:
    tok = m.group(0)
    return tok.translate(_LEET) if _LATIN.search(tok) else tok


def normalise(text: str) -> str:
    """Fold `text` for matching: width, case, lookalikes, leetspeak, split words.

    The result is only for comparison (never shown): "Ｓ.С.А.М" → "scam",
    "fr3e c0ins" → "free coins", "дис\u200bконт" → "диcкoнт" (lookalikes folded).
    """
    if text.isascii():  # most chat: no width, lookalike or combining tricks possible
        t = text.lower()
    else:
        t = unicodedata.normalize("NFKC", strip_invisible(text)).casefold()
        # Only decomposable letters ("й") and combining marks are changed by this step;
        # most text, Chinese above all, has neither (checking costs a fifth of doing).
        if not (unicodedata.is_normalized("NFKD", t) and _COMBINING.isdisjoint(t)):
            t = unicodedata.normalize("NFKD", t).translate(_DROP_COMBINING)
        if not _LOOKALIKE_CHARS.isdisjoint(t):  # a set pass, where translate looks up each character
            t = t.translate(_LOOKALIKE)
    if not _INNER_PUNCT_CHARS.isdisjoint(t):  # most chat has none of them: no regex pass
        t = _INNER_PUNCT.sub("", t)
    t = _SPACED.sub(_join_spaced, t)
    # Leetspeak only inside tokens that also hold letters, so "2024" stays a number; a
    # text without a leetspeak character has nothing to change (a Python call per token).
    if not _LEETISH.isdisjoint(t):
        t = _TOKEN.sub(_unleet, t)
    # str.split() and re's \s both split on exactly the characters str.isspace() knows:
    # the same result as _WS.sub(" ", t).strip(), at a fifth of the cost.
    return " ".join(t.split())


def fold(text: str) -> str:
    """Light folding: width, case and invisible characters only (for regexes on URLs)."""
    return unicodedata.normalize("NFKC", strip_invisible(text)).casefold()


def spaced_runs(text: str) -> list[str]:
    """Runs of single characters separated by spaces or dots, joined ("a s c a m" → "ascam")."""
    t = fold(text)
    return [normalise(re.sub(r"[ .\-_*·]+", "", m.group(0))) for m in _SPACED.finditer(t)]


def has_cjk(text: str) -> bool:
    """True when the text holds Chinese, Japanese or Korean characters."""
    return _CJK.search(text) is not None


def phrase_pattern(phrase: str) -> re.Pattern:
    """A regex for a normalised blocklist phrase with word boundaries.

    CJK phrases have no spaces to bound them, so they match as substrings.
    """
    norm = normalise(phrase)
    body = re.escape(norm)
    if has_cjk(norm):
        return re.compile(body)
    return re.compile(rf"(?<!\w){body}(?!\w)")


def is_emoji(ch: str) -> bool:
    """Whether a character is a pictographic emoji (not letters, not CJK)."""
    o = ord(ch)
    return (
        0x1F000 <= o <= 0x1FAFF
        or 0x2600 <= o <= 0x27BF
        or 0x2B00 <= o <= 0x2BFF
        or 0x1F900 <= o <= 0x1F9FF
    )


def symbol_stats(text: str) -> tuple[int, int, int, int]:
    """(visible characters, emoji, combining marks, invisible characters) of `text`."""
    if text.isascii() or _SYMBOLIC.isdisjoint(text):
        # Most chat, Chinese and Russian too, has no emoji, marks or invisible characters:
        # one pass over a set says so (the translations below cost ten times as much).
        return len("".join(text.split())), 0, 0, 0
    rest = text.translate(_DROP_INVISIBLE)
    shown = rest.translate(_DROP_COMBINING)
    spaces = len(shown) - len("".join(shown.split()))
    # U+FE0F (emoji presentation) is neither counted visible nor an emoji of its own.
    visible = len(shown) - spaces - shown.count("\ufe0f")
    return visible, len(_EMOJI.findall(shown)), len(rest) - len(shown), len(text) - len(rest)


#: Character → 0 (no case: digits, punctuation, Chinese), 1 (lower-case letter) or 2
#: (upper-case letter), filled as characters are first seen.
_CASE: dict[str, int] = {}


def _case(ch: str) -> int:
    c = (2 if ch.isupper() else 1) if ch.isalpha() and ch.lower() != ch.upper() else 0
    if len(_CASE) < 65_536:  # bounded: a flood of rare characters cannot grow it forever
        _CASE[ch] = c
    return c


def caps_ratio(text: str) -> tuple[int, float]:
    """(cased letters, share of them upper-case). Caseless scripts count as zero."""
    # Each distinct character is judged once (Counter counts them in C), and what it is
    # is remembered: chat uses a few hundred characters.
    if _native is not None:  # the same count in C, each character judged by _case once
        letters, upper = _native.caps_counts(text, _case)
        return (letters, upper / letters) if letters else (0, 0.0)
    letters = upper = 0
    counts: dict[str, int] = {}
    _count_elements(counts, text)
    case = _CASE
    for ch, n in counts.items():
        c = case.get(ch)
        if c is None:
            c = _case(ch)
        if c:
            letters += n
            if c == 2:
                upper += n
    if not letters:
        return 0, 0.0
    return letters, upper / letters


_NONWORD = re.compile(r"[\W_]+")


#: The native loops (`scoring/_native.c`), once `use_native` has been given them; the
#: pure-Python code below gives the same results without them.
_native = None


def use_native(mod) -> None:
    """Run `MinHasher.shingles_and_signature`, `MinHasher.signature`, `count_similar` and
    the near-duplicate search through `mod`, a built `scoring/_native.c` (see
    `bot.native`); None goes back to pure Python. Call it before windows fill: natively
    a window keeps shingles in another form (`MinHasher.shingles_and_signature`)."""
    global _native
    _native = mod


def untrack(t: tuple) -> tuple:
    """`t` itself, out of the garbage collector's sight if it holds only untracked values
    (strings, numbers, bytes, None) and the native loops are on. For tuples kept by the
    thousand for a while (recent messages, flags' entries): a young collection walks each
    once, and under load they made its pauses 6-15 ms of the event loop
    (`scoring/_native_index.c`). CPython applies the same rule at that collection."""
    return _native.untrack(t) if _native is not None else t


def shingles(text: str, k: int = 3, normalised: bool = False) -> frozenset[str]:
    """Character k-grams of the normalised text, spaces and punctuation dropped."""
    t = _NONWORD.sub("", text if normalised else normalise(text))
    if len(t) <= k:
        return frozenset([t]) if t else frozenset()
    # Interned: a group's near-duplicate index keeps thousands of these sets, and chat
    # reuses a few thousand distinct k-grams, so each is stored once, not per message.
    return frozenset(map(intern, map("".join, zip(*(t[i:] for i in range(k)), strict=False))))


def jaccard(a: frozenset, b: frozenset) -> float:
    """Jaccard similarity of two shingle sets (0 when both are empty)."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


#: Shingles whose hashes `MinHasher` keeps at most (32 4-byte hashes each: 16 MB).
TABLE_MAX = 1 << 17

#: struct format of a band of 1 or 2 rows (32-bit slots).
_BAND_FORMATS = {1: "I", 2: "Q"}


class MinHasher:
    """MinHash signatures with banding, for finding near-duplicates in O(1) per text.

    Multiply-shift hashing on uint64 (wraps by design). Two texts with Jaccard
    similarity s share at least one band with probability 1 - (1 - s^rows)^bands;
    candidates are then confirmed with the exact Jaccard.
    """

    def __init__(self, bands: int = 16, rows: int = 2, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        n = bands * rows
        self.bands = bands
        self.rows = rows
        self._a = rng.integers(1, 2**63, size=n, dtype=np.uint64) | np.uint64(1)
        self._b = rng.integers(0, 2**63, size=n, dtype=np.uint64)
        # Each shingle's hashes, computed once: chat reuses a few thousand shingles, and
        # hashing them again per text was most of the signature's time.
        self._ids: dict[str, int] = {}
        self._table = np.empty((4096, n), np.uint32)
        # A band of `rows` 4-byte slots is one unsigned integer of 4 * rows bytes.
        self._bands = struct.Struct(f"<{bands}{_BAND_FORMATS[rows]}")
        #: The hash functions as the native loops take them: a[] then b[].
        self.ab = self._a.tobytes() + self._b.tobytes()

    def shingles_and_signature(self, norm: str) -> tuple[frozenset[str] | bytes, bytes]:
        """`shingles(norm, normalised=True)` and its signature, in the form the
        near-duplicate index keeps them: a set of str in pure Python; natively, in one
        call, the 3-grams packed into sorted uint64 codes in one bytes object (one-to-one
        with the str set, so every Jaccard is the same; `shingle_codes` decodes them)."""
        if _native is not None:
            return _native.shingle_codes(_NONWORD.sub("", norm), self.ab)
        sh = shingles(norm, normalised=True)
        return sh, self.signature(sh)

    def signature(self, sh: frozenset[str]) -> bytes:
        """The MinHash signature of a shingle set as compact bytes (empty set: b"")."""
        if not sh:
            return b""
        if _native is not None:
            return _native.signature(sh, self.ab)
        ids = self._ids
        try:
            rows = np.fromiter(map(ids.__getitem__, sh), dtype=np.intp, count=len(sh))
        except KeyError:
            self._learn(sh)
            rows = np.fromiter(map(ids.__getitem__, sh), dtype=np.intp, count=len(sh))
        return self._table[rows].min(axis=0).tobytes()

    def _learn(self, sh: frozenset[str]) -> None:
        """Hash the shingles of `sh` not seen before into rows of the table."""
        new = [g for g in sh if g not in self._ids]
        if len(self._ids) + len(new) > len(self._table):
            if len(self._table) < TABLE_MAX:
                grown = np.empty((min(2 * len(self._table), TABLE_MAX), self._table.shape[1]), np.uint32)
                grown[: len(self._ids)] = self._table[: len(self._ids)]
                self._table = grown
            if len(self._ids) + len(new) > len(self._table):
                self._ids.clear()  # full: start again (rows are recomputed as texts need them)
                new = list(sh)
        # CRC-32 of each shingle, not hash(): Python salts str hashes per process, so
        # with hash() a text near the threshold was a repeat in one run and not the next.
        x = np.fromiter(map(crc32, map(str.encode, new)), dtype=np.uint64, count=len(new))
        with np.errstate(over="ignore"):
            h = (np.multiply.outer(x, self._a) + self._b) >> np.uint64(32)
        start = len(self._ids)
        self._table[start : start + len(new)] = h
        self._ids.update(zip(new, range(start, start + len(new)), strict=True))

    def band_keys(self, sig: bytes) -> tuple[int, ...]:
        """A signature's band keys: each band's `rows` 32-bit slots as one integer.

        Plain integers, unpacked in one C call: a band of one text meets the same band
        of another in a dict of them. Bands are not told apart by number: two different
        bands (different hash functions) share a value by chance only (2^-64 at 2 rows)."""
        if not sig:
            return ()
        return self._bands.unpack(sig)


def shingle_codes(codes: bytes) -> frozenset[str]:
    """The str shingles that the native loops' packed codes stand for."""
    out = []
    for c in np.frombuffer(codes, np.uint64).tolist():
        if c >> 63:  # a whole text of one or two characters
            width, c0, c1 = (c >> 42) & 3, (c >> 21) & 0x1FFFFF, c & 0x1FFFFF
            out.append(chr(c0) + (chr(c1) if width == 2 else ""))
        else:
            out.append(chr(c >> 42) + chr((c >> 21) & 0x1FFFFF) + chr(c & 0x1FFFFF))
    return frozenset(out)


def signature_similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two MinHash signatures (share of equal slots)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return float(np.count_nonzero(np.frombuffer(a, np.uint32) == np.frombuffer(b, np.uint32))) / (len(a) // 4)


def count_similar(sigs: list[bytes], sig: bytes, threshold: float) -> int:
    """How many of `sigs` have an estimated similarity to `sig` of at least `threshold`
    (one numpy comparison for all of them, not one per pair)."""
    if not sig or not sigs:
        return 0
    if _native is not None:
        return _native.count_similar(sigs, sig, threshold)
    same = [s for s in sigs if len(s) == len(sig)]
    if not same:
        return 0
    slots = len(sig) // 4
    rows = np.frombuffer(b"".join(same), np.uint32).reshape(len(same), slots)
    equal = np.count_nonzero(rows == np.frombuffer(sig, np.uint32), axis=1)
    return int(np.count_nonzero(equal / slots >= threshold))
