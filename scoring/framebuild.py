"""`FrameBuilder`: grows an `EventFrame` batch by batch.

A refresh of a big group adds the few rows stored since the last one: ids are interned
only for the new rows (dictionaries of members, channels and message ids persist), their
question marks are found in their own text only, and replies to older messages resolve
through the persistent message-id index. Only when rows arrive out of time order or a
message is deleted does `frame()` reorder or compact the arrays, still vectorised.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from scoring.frame import DELETE, KIND_CODE, MESSAGE, SEP, EventFrame, question_texts
from scoring.textscan import codepoints
from storage.events import EventKind


def _grow(table: dict[str, int], *columns: Sequence[str]) -> None:
    """Give every new non-empty value a code (append-only, so old codes stay valid)."""
    for v in dict.fromkeys(itertools.chain(*columns)):
        if v and v not in table:
            table[v] = len(table)


def _codes(values: Sequence[str], table: dict[str, int]) -> np.ndarray:
    """Codes of `values` ("" and unknown values: -1), looked up in C via map()."""
    return np.fromiter(map(table.get, values, itertools.repeat(-1)), np.int32, len(values))


class FrameBuilder:
    """Accumulates events (in load order) and assembles time-ordered frames."""

    def __init__(self) -> None:
        self.members: dict[str, int] = {}
        self.channels: dict[str, int] = {}
        self.where: dict[str, int] = {}  # message id → index of its MESSAGE event
        self.pending_deletes: set[str] = set()  # deleted before the message was seen
        self.removed: set[int] = set()
        self.texts: list[str] = []
        self.chunks: list[str] = []  # lower-cased texts of each add(), SEP-prefixed
        self.ordered = True
        self.n = 0
        self.cols: dict[str, np.ndarray] = {
            "ts": np.zeros(0), "kind": np.zeros(0, np.int8), "member": np.zeros(0, np.int32),
            "target": np.zeros(0, np.int32), "channel": np.zeros(0, np.int32),
            "reply_ev": np.zeros(0, np.int64), "link_count": np.zeros(0, np.int32),
            "is_bot": np.zeros(0, bool), "question": np.zeros(0, bool), "starts": np.zeros(0, np.int64),
            "mention_count": np.zeros(0, np.int64), "mention_member": np.zeros(0, np.int32),
        }
        self._text_len = 0
        self._cache: EventFrame | None = None

    def add(self, ts, kind, member, target, channel, message_id, reply_to, mentions, texts, link_count, is_bot) -> int:
        """Append a batch of rows given as columns (missing values as ""); returns its size."""
        ts_a = np.asarray(ts, dtype=np.float64)
        n, base = ts_a.size, self.n
        for col, label in ((kind, "kind"), (member, "member"), (texts, "texts"), (message_id, "message_id")):
            if len(col) != n:
                raise ValueError(f"build_frame: column {label!r} has {len(col)} rows, ts has {n}")
        if n == 0:
            return 0
        lut = {k: KIND_CODE[EventKind(k)] for k in dict.fromkeys(kind)}
        kind_a = np.fromiter(map(lut.__getitem__, kind), np.int8, n)
        men_tokens = " ".join(mentions).split()
        _grow(self.members, member, target, men_tokens)
        _grow(self.channels, channel)
        member_c, target_c = _codes(member, self.members), _codes(target, self.members)
        msg_local = np.flatnonzero(kind_a == MESSAGE).tolist()
        self.where.update(zip(map(message_id.__getitem__, msg_local), (i + base for i in msg_local), strict=True))
        self.where.pop("", None)
        reply_ev = np.fromiter(map(self.where.get, reply_to, itertools.repeat(-1)), np.int64, n)
        self._deletes(kind_a, message_id, base)
        # Adapters usually fill the target; for imports that only give reply ids, use
        # the author of the resolved message.
        all_member = np.concatenate([self.cols["member"], member_c])
        fill = (target_c < 0) & (reply_ev >= 0)
        target_c[fill] = all_member[reply_ev[fill]]
        chunk = (SEP + SEP.join(texts)).lower()
        lengths = np.fromiter(map(len, texts), np.int64, n) + 1
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        question = np.zeros(n, bool)
        question[question_texts(codepoints(chunk), starts)] = True
        question &= kind_a == MESSAGE
        if self.n and ts_a.min() < self.cols["ts"][-1] or not bool((np.diff(ts_a) >= 0).all()):
            self.ordered = False
        new = {
            "ts": ts_a, "kind": kind_a, "member": member_c, "target": target_c,
            "channel": _codes(channel, self.channels), "reply_ev": reply_ev,
            "link_count": np.asarray(link_count, dtype=np.int32), "is_bot": np.asarray(is_bot, dtype=bool),
            "question": question, "starts": starts + self._text_len,
            "mention_count": np.fromiter((v.count(" ") + 1 if v else 0 for v in mentions), np.int64, n),
            "mention_member": _codes(men_tokens, self.members),
        }
        for k, v in new.items():
            self.cols[k] = np.concatenate([self.cols[k], v])
        self.texts.extend(texts)
        self.chunks.append(chunk)
        self._text_len += len(chunk)
        self.n += n
        self._cache = None
        return n

    def _deletes(self, kind_a: np.ndarray, message_id: Sequence[str], base: int) -> None:
        """Deleted messages and the delete events themselves leave the frame."""
        dels = np.flatnonzero(kind_a == DELETE)
        self.removed.update((dels + base).tolist())
        for i in dels.tolist():
            mid = message_id[i]
            if mid:
                idx = self.where.get(mid)
                if idx is None:
                    self.pending_deletes.add(mid)
                else:
                    self.removed.add(idx)
        if self.pending_deletes:
            for i in np.flatnonzero(kind_a == MESSAGE).tolist():
                if message_id[i] in self.pending_deletes:
                    self.removed.add(i + base)

    def frame(self, names: dict[str, str] | None = None) -> EventFrame:
        """The events so far as a time-ordered frame (cached until the next add)."""
        if self._cache is not None:
            self._cache.names = dict(names or {})
            return self._cache
        c = self.cols
        ptr = np.concatenate([[0], np.cumsum(c["mention_count"])]).astype(np.int64)
        members = np.array(list(self.members), dtype=object)
        channels = np.array(list(self.channels), dtype=object)
        if self.ordered and not self.removed:
            joined = "".join(self.chunks)
            self.chunks = [joined]  # joined once, reused by the next refresh
            f = EventFrame(
                ts=c["ts"], kind=c["kind"], member=c["member"], target=c["target"], channel=c["channel"],
                reply_ev=c["reply_ev"], link_count=c["link_count"], is_bot=c["is_bot"], mention_ptr=ptr,
                mention_member=c["mention_member"], texts=list(self.texts), members=members,
                channels=channels, names=dict(names or {}), joined=joined, starts=c["starts"], question=c["question"],
            )
        else:
            f = self._reordered(ptr, members, channels, names)
        self._cache = f
        return f

    def _reordered(self, ptr, members, channels, names) -> EventFrame:
        c = self.cols
        keep = np.ones(self.n, bool)
        keep[list(self.removed)] = False
        order = np.argsort(c["ts"], kind="stable") if not self.ordered else np.arange(self.n)
        order = order[keep[order]]
        inv = np.full(self.n, -1, np.int64)
        inv[order] = np.arange(order.size)
        old = c["reply_ev"][order]
        reply_ev = np.where(old >= 0, inv[np.maximum(old, 0)], -1)
        counts = c["mention_count"][order]
        first = ptr[:-1][order]
        seg = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        mention_member = c["mention_member"][seg + np.arange(int(counts.sum()))]
        texts = [self.texts[i] for i in order.tolist()]
        lengths = np.fromiter(map(len, texts), np.int64, len(texts)) + 1
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if texts else np.zeros(0, np.int64)
        return EventFrame(
            ts=c["ts"][order], kind=c["kind"][order], member=c["member"][order], target=c["target"][order],
            channel=c["channel"][order], reply_ev=reply_ev, link_count=c["link_count"][order],
            is_bot=c["is_bot"][order], mention_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            mention_member=mention_member, texts=texts, members=members, channels=channels,
            names=dict(names or {}), joined=(SEP + SEP.join(texts)).lower() if texts else "",
            starts=starts, question=c["question"][order],
        )
