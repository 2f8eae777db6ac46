"""Table-driven tests of every moderation check: pass and fail cases with their
reasons, in English, Chinese and Russian, plus normalisation bypasses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.checks import BlocklistSettings, NewcomerSettings, RaidSettings, Verdict
from scoring.screen import Screener, default_checks
from scoring.spam import SpamModel
from scoring.textnorm import normalise, phrase_pattern
from scoring.window import GroupWindow
from storage.events import Event, EventKind, count_links

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_MODEL = SpamModel().fit(
    ["earn money fast dm me", "crypto signals join now", "赚钱 加微信", "заработок в лс"] * 3
    + ["when is the homework due", "thanks for the slides", "作业什么时候交", "спасибо за лекцию"] * 3,
    [1] * 12 + [0] * 12,
)


def msg(member: str, text: str, at: float = 0.0, kind: EventKind = EventKind.MESSAGE, mid: str | None = None, **kw) -> Event:
    """A message `at` seconds after T0."""
    kw.setdefault("link_count", count_links(text))
    return Event("fake", "g1", kind, T0 + timedelta(seconds=at), member_id=member, member_name=member,
                 message_id=mid or f"{member}-{at}-{len(text)}", text=text, **kw)


def run(events: list[Event], check: str, settings: dict | None = None, trusted: bool = False, history_days: float = 0) -> Verdict:
    """Screen `events` in order; return the named check's verdict on the last one."""
    window = GroupWindow()
    screener = Screener(default_checks(_MODEL))
    out = None
    for e in events:
        m = window.member(e.member_id)
        if m.first_ts is None and history_days:
            m.first_ts = e.time.timestamp() - history_days * 86400
            m.messages = 100
        out = screener.screen(e, window, settings or {}, trusted)
    return next(v for v in out.verdicts if v.check == check)


def same(member: str, text: str, n: int, every: float = 1.0) -> list[Event]:
    return [msg(member, text, i * every) for i in range(n)]


CASES = [
    # (id, events, check, flagged, reason fragment)
    ("flood-pass", same("a", "hi", 5), "flood", False, "messages 5/5 in 10s"),
    ("flood-fail", same("a", "hi", 6), "flood", True, "messages 6/5 in 10s"),
    ("flood-slow", same("a", "hi", 8, every=3), "flood", False, "messages 4/5"),
    ("repeat-en", same("a", "Buy my course now please", 3, every=20), "repeat", True, "repeats 3/3"),
    ("repeat-zh", same("a", "出售全套课程，需要的私聊我", 3, every=20), "repeat", True, "repeats 3/3"),
    ("repeat-ru", same("a", "Продам курс недорого, пишите", 3, every=20), "repeat", True, "repeats 3/3"),
    ("repeat-two", same("a", "Buy my course now please", 2, every=20), "repeat", False, "repeats 2/3"),
    ("repeat-short", same("a", "ok", 5, every=20), "repeat", False, "short text"),
    ("repeat-near", [msg("a", "Buy my course now please!!", 0), msg("a", "buy my course now please", 30), msg("a", "Buy my course now, please", 60)], "repeat", True, "repeats 3/3"),
    ("mentions-fail", [msg("a", "@alice1 @bobby2 @carol3 @dave44 @erin55 @frank6 look")], "mentions", True, "mentions 6/5"),
    ("mentions-pass", [msg("a", "@alice1 thanks!")], "mentions", False, "mentions 1/5"),
    ("mentions-zh", [msg("a", "大家看过来 @alice1 @bobby2 @carol3 @dave44 @erin55 @frank6")], "mentions", True, "mentions 6/5"),
    ("mentions-ru", [msg("a", "Смотрите @alice1 @bobby2 @carol3 @dave44 @erin55 @frank6")], "mentions", True, "mentions 6/5"),
    ("flood-zh", same("a", "在吗", 6), "flood", True, "messages 6/5 in 10s"),
    ("flood-ru", same("a", "ау", 6), "flood", True, "messages 6/5 in 10s"),
    ("emoji-zh", [msg("a", "福利来了" + "🧧" * 14)], "symbols", True, "emoji"),
    ("invisible-ru", [msg("a", "за\u200bра\u200bбо\u200bток")], "symbols", True, "invisible characters"),
    ("shout-en", [msg("a", "WHY IS NOBODY ANSWERING MY QUESTION")], "shouting", True, "caps 100%"),
    ("shout-ru", [msg("a", "ПОЧЕМУ НИКТО НЕ ОТВЕЧАЕТ")], "shouting", True, "caps 100%"),
    ("shout-zh", [msg("a", "为什么没有人回答我的问题！！！")], "shouting", False, "caps n/a"),
    ("shout-short", [msg("a", "OK THX")], "shouting", False, "caps n/a (5 letters)"),
    ("shout-normal", [msg("a", "I use SQL and AWS at work")], "shouting", False, "caps"),
    ("emoji-wall", [msg("a", "🔥" * 15)], "symbols", True, "emoji"),
    ("emoji-some", [msg("a", "great lecture 👍🎉")], "symbols", False, "emoji 2/12"),
    ("zalgo", [msg("a", "h̴̛̰e̵̡͠l̸͍͝l̶̰̿o̴̧͝ ̷w̵o̶r̸l̷d̴")], "symbols", True, "zalgo"),
    ("invisible", [msg("a", "fr\u200bee m\u200bon\u200bey")], "symbols", True, "invisible characters"),
    ("newcomer-link", [msg("new", "check https://example.com/offer")], "newcomer", True, "posted 1 link(s)"),
    ("newcomer-invite", [msg("new", "join t.me/+AbCdEf123")], "newcomer", True, "invite link"),
    ("newcomer-forward", [msg("new", "look at this", forwarded=True)], "newcomer", True, "forward"),
    ("newcomer-clean", [msg("new", "hello everyone, glad to join")], "newcomer", False, "nothing risky"),
    ("newcomer-zh", [msg("new", "大家好，看看这个 https://x.cn/a")], "newcomer", True, "link"),
    ("newcomer-ru", [msg("new", "Вступайте t.me/+AbCdEf123")], "newcomer", True, "invite link"),
    ("newcomer-clean-ru", [msg("new", "Всем привет, рад присоединиться")], "newcomer", False, "nothing risky"),
]


@pytest.mark.parametrize(("events", "check", "flagged", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_table(events, check, flagged, fragment):
    v = run(events, check)
    assert v.flagged is flagged, v.reason
    assert fragment in v.reason


def test_newcomer_not_new_after_history():
    v = run([msg("old", "docs are at https://docs.python.org")], "newcomer", history_days=30)
    assert not v.flagged and "not new" in v.reason


def test_newcomer_settings_can_allow_links():
    v = run([msg("new", "https://example.com")], "newcomer", {"newcomer": NewcomerSettings(links=False)})
    assert not v.flagged


BLOCK = [
    # (text, words, flagged)
    ("this is a scam", ["scam"], True),
    ("this is a s.c.a.m", ["scam"], True),
    ("this is a s c a m", ["scam"], True),
    ("this is a ＳＣＡＭ", ["scam"], True),
    ("this is a ѕсаm", ["scam"], True),  # Cyrillic lookalikes
    ("this is a sc\u200bam", ["scam"], True),
    ("fr3e c0ins here", ["free coins"], True),
    ("disunity in the team", ["unity"], False),
    ("scampi for dinner", ["scam"], False),
    ("пишите в лс", ["в лс"], True),
    ("пишите в лсд", ["в лс"], False),
    ("加我微信领取福利", ["微信"], True),
    ("the course is great", ["scam"], False),
]


@pytest.mark.parametrize(("text", "words", "flagged"), BLOCK)
def test_blocklist_normalises_with_word_boundaries(text, words, flagged):
    v = run([msg("a", text)], "blocklist", {"blocklist": BlocklistSettings(words=words)})
    assert v.flagged is flagged, (normalise(text), v.reason)
    if flagged:
        assert repr(words[0]) in v.reason


def test_blocklist_regex_and_pass_reason():
    s = {"blocklist": BlocklistSettings(words=["casino"], regexes=[r"bit\.ly/\w+"])}
    assert run([msg("a", "see bit.ly/abc")], "blocklist", s).flagged
    v = run([msg("a", "hello")], "blocklist", s)
    assert not v.flagged and v.reason == "no match among 2 entries"


def test_blocklist_rejects_bad_regex():
    assert "not a valid regular expression" in BlocklistSettings(regexes=["("]).check()


def test_phrase_pattern_cjk_is_substring():
    assert phrase_pattern("赚钱").search(normalise("在家赚钱"))


def test_raid_near_duplicates_from_many_members():
    texts = ["Join our signals group t.me/+pump", "join our signals group t.me/+pump!!", "Join our signals group: t.me/+pump"]
    events = [msg(f"r{i}", texts[i % 3], i * 5.0) for i in range(5)]
    v = run(events, "raid")
    assert v.flagged and "same text from 5/5 members" in v.reason


def test_raid_needs_distinct_members():
    v = run(same("one", "Join our signals group t.me/+pump", 6, every=5), "raid")
    assert not v.flagged and "1/5 members" in v.reason


def test_raid_window_expires():
    events = [msg(f"r{i}", "Join our signals group t.me/+pump", i * 100.0) for i in range(5)]
    v = run(events, "raid", {"raid": RaidSettings(seconds=150)})
    assert not v.flagged


def test_join_raid():
    joins = [Event("fake", "g1", EventKind.JOIN, T0 + timedelta(seconds=i * 3), member_id=f"j{i}") for i in range(10)]
    v = run(joins, "raid")
    assert v.flagged and v.reason == "joins 10/10 in 60s" and v.data["count"] == 10
    assert not run(joins[:9], "raid").flagged


def test_trusted_skip_content_checks_but_not_raid():
    events = [msg(f"r{i}", "WIN FREE CRYPTO NOW t.me/+pump", i) for i in range(6)]
    window, screener = GroupWindow(), Screener(default_checks(_MODEL))
    for e in events:
        sc = screener.screen(e, window, {}, trusted=True)
    by = {v.check: v for v in sc.verdicts}
    assert by["shouting"].reason == "skipped: trusted member" and not by["shouting"].flagged
    assert by["raid"].flagged


def test_edit_is_checked_like_a_message():
    v = run([msg("a", "hello", 0, mid="m1"), msg("a", "ＷＩＮ FREE MONEY NOW AT THIS LINK", 5, kind=EventKind.EDIT, mid="m1")], "shouting")
    assert v.flagged


def test_every_check_gives_a_reason_on_pass():
    window, screener = GroupWindow(), Screener(default_checks(_MODEL))
    sc = screener.screen(msg("a", "When is the homework due?"), window, {})
    assert len(sc.verdicts) == 10
    assert all(v.reason and not v.flagged for v in sc.verdicts), [(v.check, v.reason) for v in sc.verdicts]


def test_newcomer_plain_links_are_low_but_invites_medium():
    assert run([msg("new", "docs: https://docs.python.org")], "newcomer").severity == "low"
    assert run([msg("new", "join t.me/+AbCdEf123")], "newcomer").severity == "medium"


def test_minhash_signatures_are_the_same_in_every_process():
    """Python salts str hashes per process; a signature built on hash() made a text near
    the repeat threshold a repeat in one run and not in the next."""
    import os
    import subprocess
    import sys

    code = ("from scoring.textnorm import MinHasher, shingles; "
            "print(MinHasher().signature(shingles('words number 1 again and again 数据清洗')).hex())")
    sigs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        sigs.add(out.stdout.strip())
    assert len(sigs) == 1



def test_minhash_signatures_from_the_shingle_table_are_those_of_the_formula(monkeypatch):
    """Each shingle's hashes are computed once and kept in a table that grows and, when
    full, starts again: the signatures stay those of hashing every shingle every time."""
    import random
    from zlib import crc32

    import numpy as np

    import scoring.textnorm as tn

    monkeypatch.setattr(tn, "TABLE_MAX", 8192)
    monkeypatch.setattr(tn, "_native", None)  # the table is the pure-Python path's
    h = tn.MinHasher()

    def formula(sh):
        x = np.array([crc32(g.encode()) for g in sh], dtype=np.uint64)
        with np.errstate(over="ignore"):
            return ((np.multiply.outer(h._a, x) + h._b[:, None]) >> np.uint64(32)).min(axis=1).astype(np.uint32).tobytes()

    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyz数据清洗模型作业课件面试项目图表指标данныемодель"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(4, 80))) for _ in range(3000)]
    grew = reset = False
    for t in texts:
        sh = tn.shingles(t)
        before = len(h._ids)
        assert h.signature(sh) == formula(sh), t
        grew |= len(h._table) > 4096
        reset |= len(h._ids) < before
    assert grew and reset and len(h._table) == 8192
    assert h.signature(frozenset()) == b""

def _symbol_stats_by_hand(text: str) -> tuple[int, int, int, int]:
    """symbol_stats as it was written first: one character at a time."""
    import unicodedata

    from scoring.textnorm import INVISIBLE, is_emoji

    visible = emoji = combining = invisible = 0
    for ch in text:
        if ch in INVISIBLE:
            invisible += 1
        elif unicodedata.combining(ch):
            combining += 1
        elif is_emoji(ch):
            emoji += 1
            visible += 1
        elif not ch.isspace() and ch != "\ufe0f":
            visible += 1
    return visible, emoji, combining, invisible


_ODD = "a Z7 数据д\u200b\u200d\u00ad\u034f\ufeff\u0301\u0336\u0489\u1ab0\ufe0f🔥😀☀⬛\U0001FAF6\u3000\t\n\u2028\U0001E94A"


@given(st.text(alphabet=st.sampled_from(_ODD) | st.characters(), max_size=60))
def test_text_counts_are_those_of_the_character_loops(text):
    from scoring.textnorm import _NONWORD, caps_ratio, shingles, strip_invisible, symbol_stats

    assert symbol_stats(text) == _symbol_stats_by_hand(text)
    letters = [ch for ch in text if ch.isalpha() and ch.lower() != ch.upper()]
    assert caps_ratio(text) == ((len(letters), sum(ch.isupper() for ch in letters) / len(letters)) if letters else (0, 0.0))
    t = _NONWORD.sub("", normalise(text))
    if len(t) > 3:
        assert shingles(text) == frozenset(t[i : i + 3] for i in range(len(t) - 2))
    assert strip_invisible(text) == "".join(ch for ch in text if ch not in "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f")



def _normalise_every_step(text: str) -> str:
    """normalise() without its shortcuts: every step on every text."""
    import unicodedata

    from scoring import textnorm as tn

    t = unicodedata.normalize("NFKC", text.translate(tn._DROP_INVISIBLE)).casefold()
    t = unicodedata.normalize("NFKD", t).translate(tn._DROP_COMBINING).translate(tn._LOOKALIKE)
    t = tn._SPACED.sub(tn._join_spaced, tn._INNER_PUNCT.sub("", t))
    return tn._WS.sub(" ", tn._TOKEN.sub(tn._unleet, t)).strip()


@given(st.text(alphabet=st.sampled_from(_ODD + "013457@$йёЙ.-_ Ｓ*'’·•|/\\\x1c\x1f\u00a0\u2029\u0085") | st.characters(), max_size=60))
def test_normalise_skips_only_steps_that_change_nothing(text):
    """normalise() skips a step when the text holds nothing it changes (no leetspeak
    character, nothing to decompose, no mark, no invisible character)."""
    assert normalise(text) == _normalise_every_step(text)

def test_the_near_duplicate_index_lets_go_of_messages_that_leave_it():
    from scoring.textnorm import shingles
    from scoring.window import HASHER

    w = GroupWindow(max_index=50)
    texts = [f"message number {i} about the capstone rubric and deadline" for i in range(200)]
    for i, t in enumerate(texts):
        sh = shingles(t)
        w.cluster_for(float(i), f"u{i % 7}", str(i), sh, HASHER.signature(sh), 0.7, 10_000.0)
    # Only the newest 50 are indexed, and every bucket holds only those.
    assert len(w.recent) == 50
    kept = {id(s) for s in w.recent}
    assert all(id(s) in kept for bucket in w.buckets() for s in bucket)
    assert sum(map(len, w.buckets())) <= 50 * HASHER.bands
    # Time-based eviction empties the index completely.
    w._evict(10_000.0)
    assert not w.recent and not w.index and not w.seen and not w.cluster_of
    # Near-identical texts still meet in one cluster.
    a, b = shingles("join my channel t.me/cheap now"), shingles("join my channel t.me/cheap now!!")
    c1, _ = w.cluster_for(20_000.0, "x", "a", a, HASHER.signature(a), 0.7, 600.0)
    c2, sim = w.cluster_for(20_001.0, "y", "b", b, HASHER.signature(b), 0.7, 600.0)
    # The first was a cluster of one (kept by no one); the second joins it under its id.
    assert c2.id == c1.id and sim >= 0.7 and set(c2.members) == {"x", "y"}
    assert c1.id in w.clusters
    # A message like no other is indexed without a stored cluster, in buckets of one.
    before = len(w.clusters)
    w.cluster_for(20_002.0, "z", "c", shingles("an entirely different sentence"), HASHER.signature(shingles("an entirely different sentence")), 0.7, 600.0)
    assert len(w.clusters) == before


def test_a_shorter_near_duplicate_at_the_threshold_still_joins_the_cluster():
    """The near-duplicate lookup skips candidates whose size alone keeps them under the
    threshold (Jaccard ≤ smaller / larger); a subset at exactly the threshold is not one."""
    from scoring.screen import HASHER

    w = GroupWindow()
    long = frozenset(f"s{i:02d}" for i in range(20))
    w.cluster_for(100.0, "a", "1", long, HASHER.signature(long), 0.7, 600)
    at = frozenset(sorted(long)[:14])  # 14 / 20 = 0.7
    cluster, sim = w.cluster_for(101.0, "b", "2", at, HASHER.signature(at), 0.7, 600)
    assert sim == 0.7 and set(cluster.members) == {"a", "b"}


def test_a_text_longer_than_any_platform_allows_is_screened_on_its_start():
    """Telegram sends at most 4,096 characters and Discord 4,000; a longer text (an
    export, a crafted update) is judged on its first `MAX_CHARS`, so a 10 MB message
    cannot hold the event loop, and what is beyond the limit is not read."""
    from scoring.screen import MAX_CHARS

    head = "spam t.me/+freecoins " + "数据" * 10
    long = head + "x" * (MAX_CHARS * 40)
    assert run([msg("new", long)], "newcomer").flagged  # the invite is in the screened start
    hidden = "数据" * MAX_CHARS + " t.me/+freecoins"
    v = run([msg("new", hidden, link_count=0)], "newcomer")
    assert not v.flagged and "nothing risky" in v.reason
    window = GroupWindow()
    sc = Screener(default_checks(_MODEL)).screen(msg("new", long, link_count=0), window, {})
    assert len(sc.event.text) == MAX_CHARS and sc.event.key == msg("new", long, link_count=0).key

