"""Bounded per-group memory of recent activity that the checks read.

Everything is capped (members kept, messages per member, joins, near-duplicate index),
so memory per group stays bounded however busy the group is. Time comes from the events
themselves, never from a clock, so replaying history (`communitybot scan`) gives the
same verdicts as live traffic.
"""

from __future__ import annotations

from collections import OrderedDict, _count_elements, deque  # the C counter behind Counter.update
from dataclasses import dataclass, field
from typing import NamedTuple

from scoring import textnorm
from scoring.textnorm import MinHasher, untrack

#: Messages kept per band bucket of the near-duplicate index, newest last. A message
#: needs to meet one earlier member of its cluster to join it, and near-identical texts
#: share most of the 16 bands, so a few per bucket find it; a longer bucket only adds
#: candidates to compare (under load, most of the screening's time).
BUCKET_CAP = 8

#: Bands a candidate must share with a message before their exact similarity is computed.
MIN_BANDS = 2

#: The one MinHasher every window uses (signatures must be comparable).
HASHER = MinHasher()


class Seen(NamedTuple):
    """One message in the group's near-duplicate index: a tuple of plain values, which
    the garbage collector stops tracking (tens of thousands are kept under load; as
    objects with a shingle set each, they were most of what a collection walked). Its
    cluster, once it has one, is in `GroupWindow.cluster_of`."""

    ts: float
    member_id: str
    message_id: str | None
    #: Its shingles (a set is made of them only to compare it with a new message); with
    #: the native loops on, their packed codes (`MinHasher.shingles_and_signature`).
    shingles: tuple[str, ...] | bytes
    #: The MinHash signature; its band keys are cut from it again when the message
    #: leaves the index (16 key tuples per message kept for that were ~1.5 KB each).
    sig: bytes
    #: Its number in the window (what the index's buckets hold).
    seq: int


@dataclass
class Cluster:
    """Near-identical messages from possibly many members: a raid candidate."""

    id: str
    first_ts: float
    last_ts: float
    #: member → (last message id, time)
    members: dict[str, tuple[str | None, float]] = field(default_factory=dict)

    def add(self, ts: float, member_id: str, message_id: str | None, cap: int) -> None:
        """Record a member's message in the cluster (at most `cap` members kept)."""
        self.last_ts = ts
        if member_id in self.members or len(self.members) < cap:
            self.members[member_id] = (message_id, ts)

    def count_since(self, ts: float) -> int:
        """Distinct members whose latest message in the cluster is at or after `ts`."""
        return sum(1 for _, t in self.members.values() if t >= ts)


@dataclass
class MemberWindow:
    """What the checks know about one member: recent times, texts, counters."""

    member_id: str
    first_ts: float | None = None
    messages: int = 0
    times: deque = field(default_factory=lambda: deque(maxlen=64))
    #: (time, MinHash signature) of recent texts: ~130 bytes each, unlike shingle sets.
    texts: deque = field(default_factory=lambda: deque(maxlen=10))
    #: (bucket start, count) of the member's active 10-minute buckets (anomaly baseline).
    buckets: deque = field(default_factory=lambda: deque(maxlen=48))
    chars: int = 0
    links: int = 0
    mentions: int = 0
    repeats: int = 0

    def count_since(self, ts: float) -> int:
        """Messages at or after `ts` in the window."""
        n = 0
        for t in reversed(self.times):
            if t < ts:
                break
            n += 1
        return n


BUCKET = 600.0


class GroupWindow:
    """Recent activity of one group, bounded in every dimension."""

    def __init__(self, max_members: int = 5000, max_index: int = 2000, max_joins: int = 2000) -> None:
        self.members: OrderedDict[str, MemberWindow] = OrderedDict()
        self.max_members = max_members
        self.recent: deque[Seen] = deque()
        self.max_index = max_index
        #: Band key → the number of the one message in that bucket, or a tuple of them
        #: (oldest first); `seen` maps numbers to messages. Numbers, not references: a
        #: tuple of ints is no work for the garbage collector, and lists of messages
        #: were half of what it walked under load (`bench/load.py`).
        self.index: dict[int, int | tuple[int, ...]] = {}
        self.seen: dict[int, Seen] = {}
        #: Message number → id of its cluster, for messages that have a near-duplicate.
        self.cluster_of: dict[int, str] = {}
        self._seq = 0
        self.clusters: dict[str, Cluster] = {}
        self.joins: deque[tuple[float, str]] = deque(maxlen=max_joins)
        self.join_burst: Cluster | None = None
        #: Per-member counts of closed 10-minute buckets across the group (group baseline).
        self.group_buckets: deque[int] = deque(maxlen=500)
        self.forest_ts: float = float("-inf")
        self.forest_at: int = 0
        #: Messages noted in this window since it was created.
        self.total: int = 0
        self.forest_scores: dict[str, float] = {}

    def member(self, member_id: str) -> MemberWindow:
        """The member's window, created on first sight (least recently seen evicted)."""
        m = self.members.get(member_id)
        if m is None:
            m = MemberWindow(member_id)
            self.members[member_id] = m
            if len(self.members) > self.max_members:
                self.members.popitem(last=False)
        else:
            self.members.move_to_end(member_id)
        return m

    def has_member(self, member_id: str) -> bool:
        """Whether the member is in the window (without creating it)."""
        return member_id in self.members

    def note_message(self, m: MemberWindow, ts: float, text: str, links: int, mentions: int) -> None:
        """Update the member's counters and rate buckets with a new message."""
        if m.first_ts is None:
            m.first_ts = ts
        m.messages += 1
        self.total += 1
        m.times.append(ts)
        m.chars += len(text)
        m.links += links
        m.mentions += mentions
        start = ts - ts % BUCKET
        if m.buckets and m.buckets[-1][0] == start:
            m.buckets[-1] = untrack((start, m.buckets[-1][1] + 1))
        else:
            if m.buckets:
                self.group_buckets.append(m.buckets[-1][1])
            m.buckets.append(untrack((start, 1)))

    def note_text(self, m: MemberWindow, ts: float, sig: bytes) -> None:
        """Remember the member's text (its signature) for the repeat check."""
        m.texts.append(untrack((ts, sig)))

    def cluster_for(
        self, ts: float, member_id: str, message_id: str | None, sh: frozenset, sig: bytes, threshold: float, window: float, cap: int = 500
    ) -> tuple[Cluster | None, float]:
        """Index a message and return its near-duplicate cluster and best similarity.

        A message joins the cluster of the most similar earlier message within
        `window` seconds (Jaccard ≥ `threshold`), or starts its own.
        """
        self._evict(ts - window)
        if not sh:
            return None, 0.0
        keys = HASHER.band_keys(sig)
        index = self.index
        by_seq = self.seen
        native = textnorm._native
        if native is not None:
            if type(sh) is not bytes:  # a set of str from `shingles()`: packed as natively
                sh = native.codes(sh)
            best, best_sim = native.nearest(sh, keys, index, by_seq, ts - window, threshold, MIN_BANDS)
        else:
            if type(sh) is bytes:  # packed by the native loops, which were on before
                sh = textnorm.shingle_codes(sh)
            best, best_sim = self._nearest(sh, keys, ts - window, threshold)
        if best is None:
            # A message like no other: a cluster of one, kept by no one. Most messages
            # are; stored, their clusters were most of what the garbage collector walked.
            cluster = Cluster(f"{member_id}:{message_id or ts}", ts, ts)
            cid = ""
        else:
            cluster = self.clusters.get(self.cluster_of.get(best.seq, ""))
            if cluster is None:  # the first near-duplicate of `best`: its cluster begins
                cid = f"{best.member_id}:{best.message_id or best.ts}"
                cluster = self.clusters[cid] = Cluster(cid, best.ts, best.ts)
                cluster.add(best.ts, best.member_id, best.message_id, cap)
                self.cluster_of[best.seq] = cid
            cid = cluster.id
        cluster.add(ts, member_id, message_id, cap)
        self._seq += 1
        seq = self._seq
        seen = Seen(ts, member_id, message_id, sh if type(sh) is bytes else tuple(sh), sig, seq)
        if cid:
            self.cluster_of[seq] = cid
        self.recent.append(seen)
        by_seq[seq] = seen
        if native is not None:
            # The same buckets, made in C and out of the garbage collector's sight at once
            # (see `scoring/_native_index.c`), and the entry too.
            native.untrack(seen)
            native.index_add(index, keys, seq, BUCKET_CAP)
        else:
            for k in keys:
                # A bucket of one is the message's number itself, not a tuple.
                b = index.get(k)
                if b is None:
                    index[k] = seq
                elif type(b) is int:
                    index[k] = (b, seq)
                else:
                    # A very common text must not make lookups slow: the oldest goes.
                    index[k] = (*b, seq) if len(b) < BUCKET_CAP else (*b[1:], seq)
        if len(self.recent) > self.max_index:
            self._drop(self.recent.popleft())
        return cluster, best_sim

    def _nearest(self, sh: frozenset, keys: tuple[int, ...], since: float, threshold: float) -> tuple[Seen | None, float]:
        """The most similar earlier message still in the window and its Jaccard (≥
        `threshold`), or (None, 0.0); `scoring/_native.c`'s `nearest` does the same in C."""
        best: Seen | None = None
        best_sim = 0.0
        index = self.index
        # How many bands each earlier message shares with this one, counted in C.
        shared: dict[int, int] = {}
        for b in [b for b in map(index.get, keys) if b is not None]:
            if type(b) is int:
                shared[b] = shared.get(b, 0) + 1
            else:
                _count_elements(shared, b)
        by_seq = self.seen
        size = len(sh)
        # One shared band of 16 is what unrelated texts of the same topic share; a text as
        # similar as the raid threshold (0.7) shares about 8, and fewer than 2 with a
        # chance of 1 in 3,000. The exact Jaccard is for the rest.
        for q in [q for q, n in shared.items() if n >= MIN_BANDS]:
            s = by_seq[q]
            if s.ts < since:
                continue
            # Jaccard is at most the smaller set's size over the larger's: a candidate of
            # a very different length cannot reach the threshold (exact, and cheaper than
            # the intersection).
            other = len(s.shingles)
            if (size if size < other else other) < threshold * (other if size < other else size):
                continue
            # Jaccard without a set of the candidate's shingles (unique already).
            inter = len(sh.intersection(s.shingles))
            sim = inter / (size + other - inter)
            if sim >= threshold and sim > best_sim:
                best, best_sim = s, sim
        return best, best_sim

    def cluster_id(self, s: Seen) -> str:
        """The id of the cluster an indexed message is in ("" while it has no near-duplicate)."""
        return self.cluster_of.get(s.seq, "")

    def buckets(self) -> list[list[Seen]]:
        """Every bucket of the near-duplicate index as a list (for tests and reports)."""
        return [[self.seen[b]] if type(b) is int else [self.seen[q] for q in b] for b in self.index.values()]

    def _evict(self, before: float) -> None:
        while self.recent and self.recent[0].ts < before:
            self._drop(self.recent.popleft())
        if len(self.clusters) > 4 * self.max_index:
            for cid in [c for c, v in self.clusters.items() if v.last_ts < before]:
                del self.clusters[cid]

    def _drop(self, s: Seen) -> None:
        index, seq = self.index, s.seq
        native = textnorm._native
        if native is not None:  # the same, in C (`scoring/_native_index.c`)
            native.index_drop(index, HASHER.band_keys(s.sig), seq)
        else:
            for k in HASHER.band_keys(s.sig):
                b = index.get(k)
                if b is None:
                    continue
                if b == seq:
                    del index[k]
                elif type(b) is tuple and seq in b:
                    rest = tuple(q for q in b if q != seq)
                    index[k] = rest[0] if len(rest) == 1 else rest
        self.seen.pop(seq, None)
        self.cluster_of.pop(seq, None)

    def note_join(self, ts: float, member_id: str, window: float, threshold: int) -> tuple[int, Cluster | None]:
        """Record a join; return joins within `window` and the join burst, if one is on."""
        self.joins.append((ts, member_id))
        n = sum(1 for t, _ in self.joins if t >= ts - window)
        burst = self.join_burst
        if burst is not None and ts - burst.last_ts > window:
            burst = self.join_burst = None
        if burst is None and n >= threshold:
            first = next(t for t, _ in self.joins if t >= ts - window)
            burst = self.join_burst = Cluster(f"joins:{int(first)}", first, ts)
            for t, mid in self.joins:
                if t >= ts - window:
                    burst.add(t, mid, None, 1000)
        elif burst is not None:
            burst.add(ts, member_id, None, 1000)
        return n, burst

    def forget_member(self, member_id: str, placeholder: str = "~forgotten") -> int:
        """Drop everything the window holds about a member (a `/forgetme`): their counters,
        the fingerprints of their recent texts, their place in near-duplicate clusters and
        join bursts. Joins keep being counted, under `placeholder`. Returns the number of
        indexed messages dropped."""
        self.members.pop(member_id, None)
        self.forest_scores.pop(member_id, None)
        mine = [s for s in self.recent if s.member_id == member_id]
        for s in mine:
            self._drop(s)
        if mine:
            self.recent = deque(s for s in self.recent if s.member_id != member_id)
        renamed: dict[str, str] = {}
        for cid, cluster in list(self.clusters.items()):
            cluster.members.pop(member_id, None)
            if not cluster.members:
                del self.clusters[cid]
            elif cid.startswith(f"{member_id}:"):
                # A cluster is named after the member who started it; others still in it
                # keep the cluster, under a name that no longer says who that was.
                new = f"{placeholder}:{len(self.clusters)}:{cluster.first_ts}"
                cluster.id = new
                self.clusters[new] = self.clusters.pop(cid)
                renamed[cid] = new
        for seq, cid in self.cluster_of.items():
            if cid in renamed:
                self.cluster_of[seq] = renamed[cid]
        self.joins = deque(((t, placeholder if m == member_id else m) for t, m in self.joins), maxlen=self.joins.maxlen)
        if self.join_burst is not None:
            self.join_burst.members.pop(member_id, None)
        return len(mine)
