"""Recommendations (channels, topics, upcoming community events) and "who knows".

`recommend()` ranks items by cosine similarity between the member's interest vector
and each item's tag vector, then adjusts by behaviour: every time the member engaged
with an item (opened it, wrote there) counts up, every time it was shown and ignored
counts down. `who_knows()` ranks members for a question by how close their own
messages are to it (character n-gram TF-IDF), how their tags overlap its tags, and how
many questions they have answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scoring.interest import Interests, cosine_rows


@dataclass(frozen=True)
class Item:
    """Something to recommend: a channel, a topic or a community event."""

    id: str
    kind: str  # "channel", "topic", "event"
    title: str
    tags: tuple[float, ...] = ()  # a tag vector over Interests.tags; empty → from text
    text: str = ""


@dataclass(frozen=True)
class Recommendation:
    """An item with its score and the tags that made it fit."""

    item: Item
    score: float
    similarity: float
    because: tuple[str, ...]


def recommend(
    interests: Interests,
    member: int,
    items: Sequence[Item],
    engaged: Mapping[str, int] | None = None,
    ignored: Mapping[str, int] | None = None,
    boost: float = 0.5,
    penalty: float = 0.5,
    k: int = 5,
    exclude: Sequence[str] = (),
) -> list[Recommendation]:
    """The member's top `k` items: cosine × (1 + boost·engaged) / (1 + penalty·ignored).

    Items with no similarity at all are left out, so an empty list means "nothing fits
    yet", not "anything goes".
    """
    if not items:
        return []
    vecs = np.array([_item_vector(interests, it) for it in items])
    me = interests.members[member] if 0 <= member < interests.members.shape[0] else np.zeros(len(interests.tags))
    sim = cosine_rows(vecs, me)
    eng = np.array([float((engaged or {}).get(it.id, 0)) for it in items])
    ign = np.array([float((ignored or {}).get(it.id, 0)) for it in items])
    score = sim * (1 + boost * eng) / (1 + penalty * ign)
    out = []
    for j in np.argsort(-score, kind="stable"):
        if score[j] <= 0 or items[j].id in exclude:
            continue
        shared = np.flatnonzero((vecs[j] > 0) & (me > 0))
        shared = shared[np.argsort(-(vecs[j][shared] * me[shared]), kind="stable")][:3]
        out.append(Recommendation(items[j], float(score[j]), float(sim[j]), tuple(interests.tags[t] for t in shared)))
        if len(out) >= k:
            break
    return out


def _item_vector(interests: Interests, item: Item) -> np.ndarray:
    if item.tags:
        v = np.asarray(item.tags, dtype=float)
        if v.shape != (len(interests.tags),):
            raise ValueError(f"item {item.id!r}: tag vector has {v.size} entries, there are {len(interests.tags)} tags")
        return v
    return interests.text_tags(f"{item.title} {item.text}")


def channel_items(interests: Interests, channel_ids: Sequence[str], titles: Mapping[str, str] | None = None) -> list[Item]:
    """One item per channel with its tag vector from the messages written there."""
    out = []
    for code, cid in enumerate(channel_ids):
        vec = interests.channels[code]
        if vec.sum() > 0:
            out.append(Item(str(cid), "channel", (titles or {}).get(str(cid)) or str(cid), tuple(vec / vec.sum())))
    return out


@dataclass(frozen=True)
class Expert:
    """A member who may know the answer, with the parts of the score."""

    member: int
    score: float
    text: float  # cosine of the question with the member's knowledge vector
    tags: float
    answers: float


def who_knows(
    interests: Interests,
    question: str,
    answers: np.ndarray,
    exclude: Sequence[int] = (),
    bots: np.ndarray | None = None,
    weights: tuple[float, float, float] = (0.5, 0.3, 0.2),
    k: int = 3,
    min_text: float = 0.12,
) -> list[Expert]:
    """Members ranked for answering `question`.

    score = a·text + b·tags + c·answers, where text is the cosine of the question with
    the member's messages (char n-gram TF-IDF, answers weighted up) relative to the best
    match in the group, tags the cosine of tag vectors, and answers the member's
    answered questions scaled to the group's best answerer. Only members with a topical
    fit (text cosine above `min_text` and at least 30 % of the best, or a shared tag)
    are returned.
    """
    if not question.strip():
        raise ValueError("the question is empty")
    n = interests.members.shape[0]
    a, b, c = weights
    text = np.zeros(n)
    if interests.text is not None and interests.tfidf is not None:
        q = interests.tfidf.transform_text(question)
        text = np.asarray((interests.text @ q.T).todense()).ravel()
    qt = interests.text_tags(question)
    tags = cosine_rows(interests.members, qt) if qt.any() else np.zeros(n)
    ans = np.asarray(answers, dtype=float)
    ans = ans / ans.max() if ans.size and ans.max() > 0 else np.zeros(n)
    # Members with many messages have diluted vectors: compare within the group.
    rel = text / text.max() if text.size and text.max() > 0 else text
    score = a * rel + b * tags + c * ans
    fit = ((text > min_text) & (rel >= 0.3)) | (tags > 0)
    if bots is not None:
        fit &= ~bots
    fit[list(exclude)] = False
    order = np.flatnonzero(fit)
    order = order[np.argsort(-score[order], kind="stable")][:k]
    return [Expert(int(i), float(score[i]), float(text[i]), float(tags[i]), float(ans[i])) for i in order]
