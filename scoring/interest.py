"""Interests: tags per member, recommendations, and "who can answer this".

Tags come from two places: the group's taxonomy (tag → keywords in any language, from
the config) and the group's own vocabulary (terms with the highest TF-IDF across
members: words in spaced scripts, character bigrams in Chinese). Each message's tag
hits are normalised to sum to 1, and a member's interest vector I is the sum over
their messages. Matching is one regex scan over the frame's joined corpus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from scoring.frame import MESSAGE, EventFrame
from scoring.textscan import codepoints, docs_of, find_keywords
from scoring.textvec import CharTfidf, count_matrices

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]{4,}")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
#: Function words that TF-IDF alone would let through in small groups.
STOPWORDS = frozenset(
    "the and for that this with you are was have not but can what how why when just "
    "from they will would there their about been one all any our out get has had its "
    "also like then than them some more very into only your which who make does did "
    "это что как для все так его она они мне был была были есть еще уже или нет там "
    "где кто чем тоже меня тебя если когда можно нужно очень "
    # chat filler: frequent, but nobody's interest
    "thanks thank agree great good nice yes okay cool hello please point sure "
    "спасибо привет согласен отлично хорошо работает "
    # everyday verbs and time words of a course chat
    "got get try tried start started pick picked use used make made lot lots week weeks "
    "today tomorrow yesterday tonight morning evening day days time really still want need "
    "know think thing things work works worked working looks look help check instead "
    "perfect awesome sounds maybe actually".split()
) | ENGLISH_STOP_WORDS | {"我们", "你们", "他们", "这个", "那个", "什么", "怎么", "可以", "没有", "就是", "一个", "不是",
     "谢谢", "感谢", "你好", "哈哈", "同意", "为什", "么会"}


#: Chinese function characters: a bigram holding one is usually two half-words
#: ("谢分" from 谢谢分享), never a topic.
_CJK_FUNCTION = frozenset("的了是在我你他她它们有和就不也都很吗呢吧啊个上下为什怎么这那会样谢还要到说对把被让给")


_URL = re.compile(r"(?:https?://|www\.|t\.me/|discord\.gg/)\S*")


def vocabulary_terms(text: str) -> list[str]:
    """Terms of a lower-cased text: words of 4+ letters, and bigrams of Chinese runs
    without function characters. Links are not words."""
    text = _URL.sub(" ", text)
    terms = [w for w in _WORD.findall(_CJK.sub(" ", text)) if w not in STOPWORDS]
    for run in _CJK_RUN.findall(text):
        terms.extend(
            run[i : i + 2] for i in range(len(run) - 1) if run[i] not in _CJK_FUNCTION and run[i + 1] not in _CJK_FUNCTION
        )
    return [t for t in terms if t not in STOPWORDS]


def discover_vocabulary(
    frame: EventFrame,
    exclude: Sequence[str] = (),
    top: int = 10,
    min_members: int = 2,
    sample: int = 20_000,
    min_messages: int = 3,
) -> list[str]:
    """The group's own most characteristic terms, by TF-IDF over member documents.

    Uses at most `sample` messages, spread evenly over the history, so the cost is
    bounded whatever the group's size. Only members with `min_messages` or more in the
    sample count, so a raid of one-message accounts cannot plant its words. Terms equal
    to or containing an excluded keyword (the taxonomy's) are skipped.
    """
    msgs = np.flatnonzero((frame.kind == MESSAGE) & ~frame.is_bot & (frame.member >= 0))
    if msgs.size == 0:
        return []
    if msgs.size > sample:
        msgs = msgs[np.linspace(0, msgs.size - 1, sample).astype(np.int64)]
    docs: dict[int, list[str]] = {}
    for i in msgs:  # bounded by `sample`
        docs.setdefault(int(frame.member[i]), []).append(frame.texts[i].lower())
    docs = {m: d for m, d in docs.items() if len(d) >= min_messages}
    if len(docs) < min_members:
        return []
    # max_df: a term nearly everyone uses is the group's small talk, not an interest.
    vec = TfidfVectorizer(analyzer=vocabulary_terms, min_df=min_members, max_df=0.5 if len(docs) >= 10 else 1.0, sublinear_tf=True)
    try:
        M = vec.fit_transform(" \n".join(d) for d in docs.values())
    except ValueError:  # no term used by min_members members
        return []
    terms = vec.get_feature_names_out()
    mass = np.asarray(M.sum(axis=0)).ravel()
    ex = [e.lower() for e in exclude]
    out: list[str] = []
    for j in np.argsort(-mass, kind="stable"):
        t = str(terms[j])
        if any(e in t or t in e for e in ex) or any(t in o or o in t for o in out):
            continue
        out.append(t)
        if len(out) >= top:
            break
    return out


@dataclass
class Interests:
    """Tag vectors of members and channels, and text vectors for "who knows"."""

    tags: list[str]
    vocabulary: list[str]
    members: np.ndarray  # members × tags, Σ of per-message normalised hits
    channels: np.ndarray  # channels × tags
    text: sp.csr_matrix | None  # members × hashed n-grams, L2-normalised TF-IDF
    tfidf: CharTfidf | None
    keywords: list[str]
    keyword_tags: list[list[int]]  # tags of keywords[i]

    def top_tags(self, code: int, k: int = 5) -> list[tuple[str, float]]:
        """A member's strongest tags with their share of the member's tagged messages."""
        row = self.members[code]
        total = row.sum()
        if total <= 0:
            return []
        order = np.argsort(-row, kind="stable")[:k]
        return [(self.tags[j], float(row[j] / total)) for j in order if row[j] > 0]

    def text_tags(self, text: str) -> np.ndarray:
        """The tag vector of one text (hits normalised to sum to 1)."""
        v = np.zeros(len(self.tags))
        _, kws = find_keywords(codepoints(text.lower()), self.keywords)
        for k in kws.tolist():
            for j in self.keyword_tags[k]:
                v[j] += 1
        return v / v.sum() if v.sum() else v


def interests(
    frame: EventFrame,
    taxonomy: Mapping[str, Sequence[str]],
    vocabulary: int = 10,
    text_vectors: bool = True,
    answer_weight: float = 3.0,
) -> Interests:
    """Compute every member's and channel's interest vector over taxonomy tags plus
    up to `vocabulary` discovered terms, and (with `text_vectors`) each member's
    character n-gram TF-IDF vector, in which answers to questions count
    1 + `answer_weight` times."""
    for tag, kws in taxonomy.items():
        if isinstance(kws, str) or not all(isinstance(k, str) for k in kws):
            raise TypeError(f"taxonomy tag {tag!r}: keywords must be a list of strings")
    all_kw = [k for kws in taxonomy.values() for k in kws]
    vocab = discover_vocabulary(frame, exclude=[*all_kw, *taxonomy]) if vocabulary else []
    vocab = vocab[:vocabulary]
    tags = [*taxonomy, *vocab]
    by_kw: dict[str, list[int]] = {}
    for j, (_tag, kws) in enumerate(taxonomy.items()):
        for k in kws:
            if k.strip():
                by_kw.setdefault(k.lower().strip(), []).append(j)
    for j, term in enumerate(vocab, start=len(taxonomy)):
        by_kw.setdefault(term, []).append(j)
    keywords, keyword_tags = list(by_kw), list(by_kw.values())
    n, nt = frame.n_members, len(tags)
    hits_ev, hits_tag = _scan(keywords, keyword_tags, frame)
    ok = (frame.kind[hits_ev] == MESSAGE) & ~frame.is_bot[hits_ev] & (frame.member[hits_ev] >= 0)
    hits_ev, hits_tag = hits_ev[ok], hits_tag[ok]
    per_msg = np.bincount(hits_ev, minlength=frame.n) if hits_ev.size else np.zeros(frame.n)
    w = 1.0 / per_msg[hits_ev] if hits_ev.size else np.zeros(0)
    M = sp.coo_matrix((w, (frame.member[hits_ev], hits_tag)), shape=(n, nt)).toarray()
    ch = frame.channel[hits_ev]
    okc = ch >= 0
    C = sp.coo_matrix((w[okc], (ch[okc], hits_tag[okc])), shape=(frame.channels.size, nt)).toarray()
    text = tfidf = None
    if text_vectors and frame.n:
        text, tfidf = _knowledge_vectors(frame, answer_weight)
    return Interests(tags, vocab, M, C, text, tfidf, keywords, keyword_tags)


def _knowledge_vectors(frame: EventFrame, answer_weight: float) -> tuple[sp.csr_matrix, CharTfidf]:
    """Each member's character n-gram TF-IDF vector of what they know.

    A member's own messages count once, their questions a quarter (asking shows
    interest, not knowledge), their answers 1 + `answer_weight` times; and the texts of
    the questions they answered are added with `answer_weight`, so whoever answered
    "how do I merge two dataframes" matches the next such question even if their answer
    never said "merge".
    """
    n = frame.n_members
    msg = (frame.kind == MESSAGE) & ~frame.is_bot & (frame.member >= 0)
    to = np.maximum(frame.reply_ev, 0)
    answer = msg & (frame.reply_ev >= 0) & frame.question[to] & (frame.member[to] != frame.member)
    own_w = np.where(answer, 1.0 + answer_weight, np.where(frame.question, 0.25, 1.0))
    own_rows = np.where(msg, frame.member, -1)
    # Questions that got answers, compacted, and who answered each.
    q_events = np.unique(frame.reply_ev[answer])
    q_row = np.full(frame.n, -1, np.int64)
    q_row[q_events] = np.arange(q_events.size)
    own, qtext = count_matrices(
        frame.codepoints(), frame.starts,
        [(own_rows, own_w, n), (q_row, np.ones(frame.n), max(q_events.size, 1))],
    )
    pairs = np.unique(np.stack([frame.member[answer], q_row[frame.reply_ev[answer]]]), axis=1)
    P = sp.csr_matrix((np.full(pairs.shape[1], answer_weight), (pairs[0], pairs[1])), shape=(n, max(q_events.size, 1)))
    tfidf = CharTfidf()
    return tfidf.fit_transform((own + P @ qtext).tocsr()), tfidf


def _scan(keywords: list[str], keyword_tags: list[list[int]], frame: EventFrame) -> tuple[np.ndarray, np.ndarray]:
    """(event index, tag) for every keyword hit in the corpus, vectorised."""
    if not frame.joined:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos, kw = find_keywords(frame.codepoints(), keywords)
    # A keyword may belong to several tags: repeat its hits once per tag.
    n_tags = np.array([len(t) for t in keyword_tags], np.int64)
    flat = np.array([j for t in keyword_tags for j in t], np.int64)
    offset = np.concatenate([[0], np.cumsum(n_tags)[:-1]])
    reps = n_tags[kw]
    pos_r = np.repeat(pos, reps)
    first = np.repeat(offset[kw], reps)
    within = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    return docs_of(pos_r, frame.starts), flat[first + within]


def cosine_rows(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of A with v (0 where either is all zeros)."""
    na = np.linalg.norm(A, axis=1)
    nv = float(np.linalg.norm(v))
    if nv == 0:
        return np.zeros(A.shape[0])
    return np.divide(A @ v, na * nv, out=np.zeros(A.shape[0]), where=na > 0)
