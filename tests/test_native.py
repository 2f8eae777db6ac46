"""The native screening loops (`scoring/_native.c`, built by `bot/native.py`) give what
the pure-Python ones give, are built once and found again, and their absence is a
warning, not a failure."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import native
from scoring import textnorm as tn
from scoring.window import HASHER

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    try:
        return native.load_module(native.build(tmp_path_factory.mktemp("native")))
    except RuntimeError as exc:  # pragma: no cover - a machine without a compiler
        pytest.skip(f"no native build here: {exc}")


@pytest.fixture
def both(mod, monkeypatch):
    """A function running a callable once in pure Python and once natively."""

    def run(fn):
        monkeypatch.setattr(tn, "_native", None)
        pure = fn()
        monkeypatch.setattr(tn, "_native", mod)
        return pure, fn()

    return run


# Every kind of character a chat sends: Latin, CJK, Cyrillic, emoji beyond the BMP,
# combining marks, punctuation and spaces (which the shingles drop).
CHARS = st.characters(blacklist_categories=("Cs",))
TEXTS = st.text(CHARS, max_size=120) | st.text(st.sampled_from("ab 数据😀é\u0301,.!-𝔘й"), max_size=40)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_native_shingles_and_signatures_are_the_pure_ones(mod, text):
    """Natively the shingles come packed (uint64 codes): they must stand for exactly the
    str shingles, and the signature must be the same bytes."""
    norm = tn.normalise(text)
    old = tn._native
    try:
        tn.use_native(None)
        sh, sig = HASHER.shingles_and_signature(norm)
        pure_sig_of_set = HASHER.signature(sh)
        tn.use_native(mod)
        codes, fast_sig = HASHER.shingles_and_signature(norm)
        fast_sig_of_set = HASHER.signature(sh)
    finally:
        tn.use_native(old)
    assert sh == tn.shingles(norm, normalised=True)
    assert tn.shingle_codes(codes) == sh
    assert mod.codes(sh) == codes  # a str set packs to the same codes
    assert len(codes) == 8 * len(sh)  # sorted, unique
    assert fast_sig == sig == pure_sig_of_set == fast_sig_of_set


def test_native_classifier_margins_are_the_pure_ones(both):
    """Every message of the spam corpus (and odd ones) scores the same bits both ways,
    also while the word cache is filling and after it was cleared."""
    from bot.mod_model import base_model
    from scoring.spam_corpus import generate

    model = base_model()
    texts = [s.text for s in generate()][:3000] + ["", "   ", "a", "!!!", "数据" * 500, "x " * 3000, "𝔘𝔫𝔦 😀 й"]

    def margins():
        model._changed()  # an empty word cache: every first sight goes through the miss path
        return [model.margin(t) for t in texts] + [model.margin(t) for t in texts[:200]]

    pure, fast = both(margins)
    assert fast == pure
    assert min(pure) < -1 < 1 < max(pure)  # ham and spam both present


@settings(max_examples=300, deadline=None)
@given(st.text(CHARS, max_size=80) | st.text(st.sampled_from("aBcÉßİǅ数😀ДжΣς 𝐀𝐚"), max_size=40))
def test_native_caps_ratio_is_the_pure_one(mod, text):
    old = tn._native
    try:
        tn.use_native(None)
        pure = tn.caps_ratio(text)
        tn.use_native(mod)
        fast = tn.caps_ratio(text)
    finally:
        tn.use_native(old)
    assert fast == pure


def test_native_codes_refuse_what_is_not_a_shingle(mod):
    with pytest.raises(ValueError, match="1 to 3 characters"):
        mod.codes(["abcd"])
    with pytest.raises(TypeError, match="packed codes"):
        mod.nearest(frozenset({"abc"}), (), {}, {}, 0.0, 0.7, 2)


def test_native_count_similar_is_the_pure_one(both):
    rng = random.Random(3)
    base = [HASHER.shingles_and_signature(tn.normalise(" ".join(rng.choices("ab cd ef gh ij kl 数据 模型".split(), k=8))))[1]
            for _ in range(60)]
    cases = [(base[i : i + 25], base[i], th) for i in range(30) for th in (0.0, 0.5, 0.7, 0.8, 1.0)]
    # Signatures of another length never count; an empty one counts nothing.
    cases += [([b"", base[0][:64], base[0]], base[0], 0.5), (base[:5], b"", 0.5), ([], base[0], 0.5)]
    pure, fast = both(lambda: [tn.count_similar(s, sig, th) for s, sig, th in cases])
    assert fast == pure
    assert max(pure) > 1 and min(pure) == 0  # the cases do tell counts apart


def test_native_nearest_duplicate_search_is_the_pure_one(both):
    """The near-duplicate index over a stream of variants of a few texts, with buckets
    overflowing and messages leaving the window: the same clusters, the same similarity."""
    from scoring.window import GroupWindow

    rng = random.Random(11)
    bases = ["join my channel t.me/cheapcoins for free signals now", "数据清洗应该先做哪一步？请问老师", "how do I start the capstone project",
             "free money casino bonus click here"]

    def variant(t: str) -> str:
        chars = list(t)
        for _ in range(rng.randint(0, 6)):
            chars[rng.randrange(len(chars))] = rng.choice("abcxyz数据 !")
        return "".join(chars)

    texts = [variant(rng.choice(bases)) for _ in range(1500)]

    def run():
        w = GroupWindow(max_index=300)
        out, snaps = [], []
        for i, t in enumerate(texts):
            sh, sig = HASHER.shingles_and_signature(tn.normalise(t))
            cluster, sim = w.cluster_for(float(i), f"u{i % 13}", str(i), sh, sig, 0.7, 200.0)
            out.append((cluster.id if cluster else None, round(sim, 12), len(cluster.members) if cluster else 0))
            if i % 100 == 99:  # the index itself: the same buckets, in the same order
                snaps.append(sorted(w.index.items()))
        return out, snaps

    (pure, pure_index), (fast, fast_index) = both(run)
    assert fast == pure and fast_index == pure_index
    assert len({c for c, sim, _ in pure if sim}) > 4  # real clusters formed
    assert sum(1 for _, sim, _ in pure if 0 < sim < 1) > 100  # inexact matches, not only copies


def test_native_index_buckets_are_the_pure_ones_and_untracked(mod):
    """`index_add` / `index_drop` against the Python loops they replace, on keys from a
    tiny space (buckets overflow their cap, a key comes twice in one message), and the
    tuples they make are out of the garbage collector's sight."""
    import gc

    from scoring.window import BUCKET_CAP

    def add(index, keys, seq):
        for k in keys:
            b = index.get(k)
            index[k] = seq if b is None else (b, seq) if type(b) is int else (*b, seq) if len(b) < BUCKET_CAP else (*b[1:], seq)

    def drop(index, keys, seq):
        for k in keys:
            b = index.get(k)
            if b == seq:
                del index[k]
            elif type(b) is tuple and seq in b:
                rest = tuple(q for q in b if q != seq)
                index[k] = rest[0] if len(rest) == 1 else rest

    rng = random.Random(4)
    pure: dict = {}
    fast: dict = {}
    live: list[tuple[int, tuple]] = []
    for seq in range(1, 3000):
        keys = tuple(rng.randrange(40) for _ in range(rng.randint(0, 6)))
        add(pure, keys, seq)
        mod.index_add(fast, keys, seq, BUCKET_CAP)
        live.append((seq, keys))
        while len(live) > 60 or (live and rng.random() < 0.3):
            old, okeys = live.pop(rng.randrange(len(live)) if rng.random() < 0.2 else 0)
            drop(pure, okeys, old)
            mod.index_drop(fast, okeys, old)
        assert fast == pure, seq
    assert any(type(b) is tuple and len(b) == BUCKET_CAP for b in pure.values())
    assert not any(gc.is_tracked(b) for b in fast.values())
    assert any(gc.is_tracked(b) for b in pure.values() if type(b) is tuple)  # what the collector would walk
    with pytest.raises(TypeError, match="bucket"):
        mod.index_add({1: "x"}, (1,), 5, BUCKET_CAP)
    with pytest.raises(ValueError, match="cap"):
        mod.index_add({}, (1,), 5, 1)
    # `untrack` follows CPython's own rule: only a tuple of untracked values.
    atomic, holder = (1.5, "a", None, b"x", 3), ([1], "a")
    assert mod.untrack(atomic) is atomic and not gc.is_tracked(atomic)
    assert mod.untrack(holder) is holder and gc.is_tracked(holder)


def test_native_loops_screen_the_same_as_pure_python(both):
    """The whole screening of a raid-and-repeat stream: every verdict the same."""
    from datetime import UTC, datetime, timedelta

    from bot.mod_model import base_model
    from scoring.screen import Screener, default_checks
    from scoring.window import GroupWindow
    from storage.events import Event, EventKind

    screener = Screener(default_checks(base_model()))
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    rng = random.Random(9)
    spam = "join my channel t.me/cheapcoins for free signals 加微信 now"
    events = [Event("fake", "g", EventKind.MESSAGE, t0 + timedelta(seconds=i), member_id=f"u{i % 9}", message_id=str(i),
                    text=spam + "!" * (i % 3) if i % 4 == 0 else " ".join(rng.choices("data model 作业 plot why how".split(), k=6)))
              for i in range(300)]

    def screen_all():
        w = GroupWindow()
        return [[(v.check, v.flagged, v.reason) for v in screener.screen(e, w, {}).verdicts] for e in events]

    pure, fast = both(screen_all)
    assert fast == pure
    assert any(flag for verdicts in pure for _, flag, _ in verdicts)  # the stream does get flagged


def test_a_built_module_is_found_again_not_rebuilt(tmp_path, mod):
    stale = tmp_path / "native-0123456789abcdef.cpython-311-x86_64-linux-gnu.so"
    stale.write_bytes(b"an older build")
    first = native.build(tmp_path)
    assert not stale.exists()  # a new build removes the builds of older sources
    stamp = first.stat().st_mtime_ns
    assert native.build(tmp_path) == first and first.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary file left


def test_a_failing_compiler_is_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", "false")
    with pytest.raises(RuntimeError, match="false .* failed"):
        native.build(tmp_path)
    assert list(tmp_path.iterdir()) == []  # its temporary output is removed
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.raises(RuntimeError, match="no C compiler"):
        native.build(tmp_path)


def _enable_in_child(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    code = ("import logging; logging.basicConfig(); from bot import native; from scoring import textnorm; "
            "print(native.enable(), textnorm._native is not None)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "COMMUNITYBOT_CACHE_DIR": str(tmp_path), **env})


def test_an_unwritable_cache_directory_still_gets_the_native_loops(tmp_path, mod):
    cache = tmp_path / "cache"
    cache.write_text("a file where the directory should be")  # mkdir fails, as on a read-only home
    r = _enable_in_child(cache)
    assert r.stdout.split() == ["True", "True"], r.stderr
    assert "native screening loops unavailable" not in r.stderr


def test_without_a_compiler_the_bot_warns_and_runs_pure_python(tmp_path):
    r = _enable_in_child(tmp_path, CC="/nonexistent/cc")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
    assert "native screening loops unavailable" in r.stderr and "no C compiler" in r.stderr


def test_native_loops_can_be_switched_off(tmp_path, mod):
    assert _enable_in_child(tmp_path, COMMUNITYBOT_NATIVE="0").stdout.split() == ["False", "False"]
    assert list(tmp_path.iterdir()) == []  # nothing was built
    on = _enable_in_child(tmp_path)
    assert on.stdout.split() == ["True", "True"], on.stderr
    assert len(list(tmp_path.glob("native-*"))) == 1  # built into the cache directory


def test_the_moderation_service_turns_the_native_loops_on(tmp_path, mod):
    code = ("import asyncio; from bot.app import App; from bot.config import load_config; from scoring import textnorm\n"
            "async def main():\n"
            f"    app = await App.create(load_config(None, require_secrets=False), 'sqlite:///{tmp_path}/t.db')\n"
            "    print(textnorm._native is not None)\n"
            "    await app.stop()\n"
            "asyncio.run(main())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env={**os.environ, "COMMUNITYBOT_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_what_the_bot_keeps_by_the_thousand_is_out_of_the_collectors_sight(mod, monkeypatch):
    """Recent messages of the points rules, members' recent texts and rate buckets: the
    tuples kept are untracked natively (they are what young collections walked under
    load), and stay tracked in pure Python, where the collector untracks them itself."""
    import gc

    from bot.points_state import RuleState
    from scoring.window import GroupWindow

    def keep():
        st, w = RuleState(), GroupWindow()
        st.seen(1, "m1", "u1", None, "hello")
        m = w.member("u1")
        w.note_message(m, 1000.0, "hello", 0, 0)
        w.note_message(m, 1001.0, "again", 0, 0)
        w.note_text(m, 1001.0, b"sig")
        (key, seen), = st._messages.items()
        return [key, seen, m.texts[-1], m.buckets[-1]]

    monkeypatch.setattr(tn, "_native", None)
    assert all(gc.is_tracked(t) for t in keep())
    monkeypatch.setattr(tn, "_native", mod)
    kept = keep()
    assert not any(gc.is_tracked(t) for t in kept)
    assert kept[1].text == "hello" and kept[3][1] == 2  # the same values either way
