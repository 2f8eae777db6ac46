"""`EventFrame`: a group's events as columns of numpy arrays, the input of every model.

Scoring never walks `Event` objects one by one on its hot path. The frame holds member
and channel ids as integer codes (interned once by `scoring.framebuild.FrameBuilder`
with dictionaries driven from C: `dict.fromkeys`, `map`), the texts joined into one
lower-cased string with their start offsets, and each reply resolved to the index of
the message it answers. Everything downstream is `np.bincount`,
boolean masks and sparse matrices over these arrays.
"""

from __future__ import annotations

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
    are dropped with their delete events, so a removed message scores nothing. The
    same as one `FrameBuilder.add` followed by `frame()`.
    """
    from scoring.framebuild import FrameBuilder  # it imports this module

    b = FrameBuilder()
    b.add(ts, kind, list(member), list(target), list(channel), list(message_id), list(reply_to), list(mentions),
          list(texts), link_count, is_bot)
    return b.frame(names)


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
        texts=[(e.text or "") if e.kind is EventKind.MESSAGE else "" for e in evs],
        link_count=[e.link_count for e in evs],
        is_bot=[e.is_bot for e in evs],
        names=nm,
    )
