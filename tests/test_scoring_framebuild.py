"""The frame builder: adding events batch by batch gives the frame a single build gives,
also when batches arrive out of time order or delete earlier messages."""

from __future__ import annotations

import numpy as np

from scoring.features import member_features
from scoring.framebuild import FrameBuilder

ROWS = [
    # ts, kind, member, target, channel, message_id, reply_to, mentions, text
    (10.0, "message", "alice", "", "c1", "1", "", "", "How do I start?"),
    (20.0, "message", "chen", "alice", "c1", "2", "1", "", "Read the rubric @alice"),
    (30.0, "reaction", "alice", "chen", "c1", "2", "", "", ""),
    (40.0, "message", "bob", "", "c2", "3", "", "chen", "spam spam"),
    (50.0, "message", "dana", "", "c2", "4", "2", "", "thanks chen"),  # target from the reply
    (60.0, "delete", "admin", "", "c2", "3", "", "", ""),
]


def cols(rows):
    names = ("ts", "kind", "member", "target", "channel", "message_id", "reply_to", "mentions", "texts")
    out = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    out["link_count"] = [0] * len(rows)
    out["is_bot"] = [False] * len(rows)
    return out


def features_by_member(frame):
    X = member_features(frame, now=100.0)
    return {str(frame.members[c]): X.as_dict(c) for c in range(frame.n_members)}


def built(*batches):
    b = FrameBuilder()
    for batch in batches:
        b.add(**cols(batch))
    return b.frame()


def test_batches_equal_one_build():
    whole = built(ROWS)
    for split in range(1, len(ROWS)):
        parts = built(ROWS[:split], ROWS[split:])
        assert features_by_member(parts) == features_by_member(whole)
        assert parts.n == whole.n == 4  # the deleted message and the delete are gone


def test_delete_in_a_later_batch_and_reply_across_batches():
    f = built(ROWS[:5], ROWS[5:])
    assert "spam spam" not in f.texts
    feats = features_by_member(f)
    assert feats["chen"]["replies_received"] == 1  # dana's reply to chen, resolved across batches
    assert feats["alice"]["questions_asked"] == 1 and feats["chen"]["questions_answered"] == 1
    assert feats["bob"]["messages"] == 0


def test_out_of_order_batch_is_sorted_with_replies_remapped():
    late = [(5.0, "message", "erin", "", "c1", "0", "", "", "Old question from the export?")]
    f = built(ROWS, late)
    assert np.all(np.diff(f.ts) >= 0) and f.texts[0] == "Old question from the export?"
    replies = f.reply_ev[f.reply_ev >= 0]
    assert [f.texts[i] for i in replies] == ["How do I start?", "Read the rubric @alice"]
    assert f.question[0] and f.joined.split("\x1e")[1] == "old question from the export?"
