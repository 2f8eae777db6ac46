"""`EventFrame`: a group's events as columns of numpy arrays, the input of every model.

Scoring never walks `Event` objects one by one on its hot path. The frame interns
member, channel and message ids into integer codes once (with `np.unique`, in C), keeps
the texts joined into one lower-cased string with their start offsets, and resolves each
reply to the index of the message it answers. Everything downstream is `np.bincount`,
boolean masks and sparse matrices over these arrays.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from scoring.textscan import codepoints, docs_of, find_keywords
from storage.events import Event, EventKind

#: Kind codes used in `EventFrame.kind` (index into this tuple).
KINDS: tuple[EventKind, ...] = tuple(EventKind)
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
MESSAGE = KIND_CODE[EventKind.MESSAGE]
REACTION = KIND_CODE[EventKind.REACTION]
JOIN = KIND_CODE[EventKind.JOIN]
LEAVE = KIND_CODE[EventKind.LEAVE]
DELETE = KIND_CODE[EventKind.DELETE]

#: Separates texts in `EventFrame.joined`; never typed by people.
SEP = "\x1e"

# A question: a question mark anywhere, an en/ru question word opening the message, a
# Chinese question word anywhere, or a Chinese final particle ending the message.
_Q_OPENERS = (
    "how", "what", "why", "when", "where", "which", "who", "whom", "whose", "can", "could",
    "does", "do", "did", "is", "are", "should", "would", "anyone", "any idea",
    "как", "что", "почему", "зачем", "где", "когда", "кто", "какой", "какая", "какие",
    "можно", "подскажите", "есть ли",
)
_Q_ANYWHERE = ("怎么", "怎样", "如何", "为什么", "为何", "什么", "哪里", "哪个", "哪些", "是否", "有没有", "能不能", "可不可以", "请问")
_Q_MARKS = (ord("?"), ord("？"))
_Q_PARTICLES = ("吗", "呢", "嘛")
_Q_AFTER_PARTICLE = np.array([ord(c) for c in SEP + "?？!！。.~ "], dtype=np.uint32)


def question_texts(cp: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Indexes of the texts that ask something (see the rule above), vectorised over
    the joined corpus `cp` (code points, lower-cased; each text preceded by SEP)."""
    pos = [np.flatnonzero(np.isin(cp, _Q_MARKS))]
    op, _ = find_keywords(cp, _Q_OPENERS)
    pos.append(op[(op > 0) & (cp[np.maximum(op - 1, 0)] == ord(SEP))])
    pos.append(find_keywords(cp, _Q_ANYWHERE)[0])
    pp, _ = find_keywords(cp, _Q_PARTICLES)
    nxt = pp + 1
    end = nxt >= cp.size
    ok = end.copy()
    ok[~end] = np.isin(cp[nxt[~end]], _Q_AFTER_PARTICLE)
    pos.append(pp[ok])
    return np.unique(docs_of(np.concatenate(pos), starts))


@dataclass
class EventFrame:
    """A group's events as aligned numpy columns (row i is event i, in time order).

    Codes are -1 where a value is missing. `texts[i]` is event i's text ("" for
    reactions, joins, ...); `joined` is every text lower-cased, each preceded by `SEP`,
    and `starts[i]` is where text i's separator sits in it.
    """

    ts: np.ndarray  # float64 epoch seconds
    kind: np.ndarray  # int8 index into KINDS
    member: np.ndarray  # int32 member code
    target: np.ndarray  # int32 member code of the replied/reacted-to author
    channel: np.ndarray  # int32 channel code
    reply_ev: np.ndarray  # int64 index of the replied-to event, -1 if unknown
    link_count: np.ndarray  # int32
    is_bot: np.ndarray  # bool, per event
    mention_ptr: np.ndarray  # int64 CSR pointer into mention_member, len n+1
    mention_member: np.ndarray  # int32 member codes
    texts: list[str]
    members: np.ndarray  # member ids (str) by code
    channels: np.ndarray  # channel ids (str) by code
    names: dict[str, str] = field(default_factory=dict)
    joined: str = ""
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    question: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    _index: dict[str, int] | None = field(default=None, repr=False)
    _cp: np.ndarray | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of events."""
        return int(self.ts.size)

    @property
    def n_members(self) -> int:
        """Number of distinct members (ids seen as author, target or mention)."""
        return int(self.members.size)

    def codepoints(self) -> np.ndarray:
        """`joined` as a uint32 array of code points (computed once, then kept)."""
        if self._cp is None:
            self._cp = codepoints(self.joined)
        return self._cp

    def member_bot(self) -> np.ndarray:
        """True for members whose events are flagged as a bot's."""
        out = np.zeros(self.n_members, bool)
        has = self.member >= 0
        out[self.member[has & self.is_bot]] = True
        return out

    def code(self, member_id: str) -> int:
        """The code of a member id, or -1 when the frame has never seen it."""
        if self._index is None:
            self._index = {str(m): i for i, m in enumerate(self.members)}
        return self._index.get(member_id, -1)

    def name(self, code: int) -> str:
        """Display name of member `code` (its id when the name is unknown)."""
        mid = str(self.members[code])
        return self.names.get(mid) or mid


def _table(*columns: Iterable[str]) -> dict[str, int]:
    """Codes for every distinct value, in first-seen order ("" gets a code too)."""
    keys = dict.fromkeys(itertools.chain(*columns))
    return {k: i for i, k in enumerate(keys)}


def _codes(values: Sequence[str], table: dict[str, int]) -> np.ndarray:
    """Codes of `values`, -1 for "" (the table's own code for "" is mapped away).

    dict.fromkeys + map(dict.__getitem__) run in C: far faster than sorting a million
    strings with np.unique.
    """
    codes = np.fromiter(map(table.__getitem__, values), np.int64, len(values))
    empty = table.get("")
    if empty is not None:
        codes[codes == empty] = -1
        codes[codes > empty] -= 1
    return codes.astype(np.int32)


def _ids(table: dict[str, int]) -> np.ndarray:
    return np.array([k for k in table if k], dtype=object)


def build_frame(
    ts: Sequence[float] | np.ndarray,
    kind: Sequence[str] | np.ndarray,
    member: Sequence[str],
    target: Sequence[str],
    channel: Sequence[str],
    message_id: Sequence[str],
    reply_to: Sequence[str],
    mentions: Sequence[str],
    texts: list[str],
    link_count: Sequence[int] | np.ndarray,
    is_bot: Sequence[bool] | np.ndarray,
    names: dict[str, str] | None = None,
) -> EventFrame:
    """Build a frame from columns (missing values as ""; `mentions` space-separated ids).

    Rows are sorted by time. Deleted messages (a DELETE event with the same message id)
    are dropped with their delete events, so a removed message scores nothing.
    """
    ts_a = np.asarray(ts, dtype=np.float64)
    n = ts_a.size
    for col, label in ((kind, "kind"), (member, "member"), (texts, "texts"), (message_id, "message_id")):
        if len(col) != n:
            raise ValueError(f"build_frame: column {label!r} has {len(col)} rows, ts has {n}")
    lut = {k: KIND_CODE[EventKind(k)] for k in dict.fromkeys(kind)}
    kind_a = np.fromiter(map(lut.__getitem__, kind), np.int8, n)
    keep = np.ones(n, bool)
    deleted = kind_a == DELETE
    if deleted.any():
        gone = {message_id[i] for i in np.flatnonzero(deleted).tolist()} - {""}
        was = np.fromiter(map(gone.__contains__, message_id), bool, n)
        keep &= ~(was & ((kind_a == MESSAGE) | (kind_a == KIND_CODE[EventKind.EDIT])))
    keep &= ~deleted
    in_order = bool((np.diff(ts_a) >= 0).all())
    if in_order:
        order = np.flatnonzero(keep)  # rows from the store come in time order already
    else:
        order = np.argsort(ts_a, kind="stable")
        order = order[keep[order]]
    m = int(order.size)
    full = in_order and m == n  # order is the identity: no reordering of the lists
    pick = (lambda seq: list(seq)) if full else (lambda seq: [seq[i] for i in order])
    ts_a, kind_a = ts_a[order], kind_a[order]
    mem_l, tgt_l, men_list = pick(member), pick(target), pick(mentions)
    men_counts = np.fromiter((v.count(" ") + 1 if v else 0 for v in men_list), np.int64, m)
    men_tokens = " ".join(men_list).split()
    table = _table(mem_l, tgt_l, men_tokens)
    member_c, target_c, men_c = _codes(mem_l, table), _codes(tgt_l, table), _codes(men_tokens, table)
    members = _ids(table)
    ch_l = pick(channel)
    ch_table = _table(ch_l)
    channel_c = _codes(ch_l, ch_table)
    # Replies point at the index of the message event with that id (-1: not stored).
    msg_idx = np.flatnonzero(kind_a == MESSAGE).tolist()
    mid_l = pick(message_id)
    where = dict(zip(map(mid_l.__getitem__, msg_idx), msg_idx, strict=True))
    where.pop("", None)
    reply_ev = np.fromiter(map(where.get, pick(reply_to), itertools.repeat(-1)), np.int64, m)
    # Adapters usually fill the target; for imports that only give reply ids, use the
    # author of the resolved message.
    fill = (target_c < 0) & (reply_ev >= 0)
    target_c[fill] = member_c[reply_ev[fill]]
    texts_o = pick(texts)
    starts = np.zeros(m, np.int64)
    if m:
        lengths = np.fromiter(map(len, texts_o), np.int64, m) + 1
        starts[1:] = np.cumsum(lengths)[:-1]
    joined = (SEP + SEP.join(texts_o)).lower() if m else ""
    question = np.zeros(m, bool)
    if m:
        cp = codepoints(joined)
        question[question_texts(cp, starts)] = True
    else:
        cp = None
        question &= kind_a == MESSAGE
    link_a = np.asarray(link_count, dtype=np.int32)[order] if n else np.zeros(0, np.int32)
    bot_a = np.asarray(is_bot, dtype=bool)[order] if n else np.zeros(0, bool)
    return EventFrame(
        ts=ts_a,
        kind=kind_a,
        member=member_c,
        target=target_c,
        channel=channel_c,
        reply_ev=reply_ev,
        link_count=link_a,
        is_bot=bot_a,
        mention_ptr=np.concatenate([[0], np.cumsum(men_counts)]).astype(np.int64),
        mention_member=men_c.astype(np.int32),
        texts=texts_o,
        members=members,
        channels=_ids(ch_table),
        names=dict(names or {}),
        joined=joined,
        starts=starts,
        question=question,
        _cp=cp,
    )


def frame_from_events(events: Iterable[Event], names: dict[str, str] | None = None) -> EventFrame:
    """Build a frame from `Event` objects (tests, imports, small groups)."""
    evs = [e for e in events if not (e.kind is EventKind.REACTION and e.data.get("removed"))]
    nm = dict(names or {})
    for e in evs:
        if e.member_id and e.member_name:
            nm.setdefault(e.member_id, e.member_name)
    return build_frame(
        ts=[e.time.timestamp() for e in evs],
        kind=[e.kind.value for e in evs],
        member=[e.member_id or "" for e in evs],
        target=[e.target_member_id or "" for e in evs],
        channel=[e.channel_id or "" for e in evs],
        message_id=[e.message_id or "" for e in evs],
        reply_to=[e.reply_to_id or "" for e in evs],
        mentions=[" ".join(e.mentions) for e in evs],
        texts=[e.text or "" if e.kind is EventKind.MESSAGE else "" for e in evs],
        link_count=[e.link_count for e in evs],
        is_bot=[e.is_bot for e in evs],
        names=nm,
    )
