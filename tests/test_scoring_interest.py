"""Interest tags in three languages, recommendations that follow engagement, who-knows,
and the health figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from scoring.features import member_features
from scoring.frame import frame_from_events
from scoring.health import cohort_retention, going_quiet, health, question_stats
from scoring.interest import interests
from scoring.recommend import Item, channel_items, recommend, who_knows
from scoring.textscan import codepoints, find_keywords
from storage.events import Event, EventKind

T0 = datetime(2026, 11, 1, tzinfo=UTC)
TAXONOMY = {
    "python": ["python", "pandas", "django", "питон", "编程"],
    "design": ["design", "figma", "дизайн", "设计", "配色"],
    "career": ["career", "resume", "interview", "карьер", "собеседован", "简历", "面试"],
}


class Chat:
    def __init__(self):
        self.events = []
        self.n = 0

    def say(self, member, text, hours, channel="main", reply_to=None):
        self.n += 1
        self.events.append(
            Event(platform="t", group_id="g", kind=EventKind.MESSAGE, time=T0 + timedelta(hours=hours),
                  member_id=member, member_name=member, message_id=str(self.n), text=text,
                  channel_id=channel, reply_to_id=reply_to)
        )
        return str(self.n)


def three_language_chat():
    c = Chat()
    for i in range(6):
        c.say("emma", f"I refactored my pandas code in python, lesson {i}", i, "code")
        c.say("li", f"这个配色的设计很好看，第{i}版", i + 0.1, "design")
        c.say("olga", f"Завтра собеседование, как подготовить резюме для карьеры? {i}", i + 0.2, "jobs")
    return c


def test_each_language_gets_its_topic():
    f = frame_from_events(three_language_chat().events)
    it = interests(f, TAXONOMY, vocabulary=0, text_vectors=False)
    assert it.top_tags(f.code("emma"))[0][0] == "python"
    assert it.top_tags(f.code("li"))[0][0] == "design"
    assert it.top_tags(f.code("olga"))[0][0] == "career"


def test_short_keywords_match_whole_words_only_and_follow_chinese():
    kws = ["ai", "python", "программ", "数据"]
    text = "aim for ai, 学python, программирование, rapid, 大数据"
    pos, k = find_keywords(codepoints(text), kws)
    assert sorted(zip(pos.tolist(), [kws[i] for i in k], strict=True)) == [
        (text.index("ai,"), "ai"), (text.index("python"), "python"),
        (text.index("программ"), "программ"), (text.index("数据"), "数据"),
    ]


def test_vocabulary_tags_come_from_the_group():
    c = three_language_chat()
    for i in range(4):
        c.say("emma", "kubernetes cluster upgrade went fine", 10 + i, "ops")
        c.say("li", "kubernetes 集群 升级", 10.1 + i, "ops")
    f = frame_from_events(c.events)
    it = interests(f, TAXONOMY, vocabulary=5, text_vectors=False)
    assert "kubernetes" in it.vocabulary
    assert "kubernetes" in dict(it.top_tags(f.code("li"), k=10))


def test_recommendations_follow_interests_and_engagement():
    f = frame_from_events(three_language_chat().events)
    it = interests(f, TAXONOMY, vocabulary=0, text_vectors=False)
    items = [
        Item("ev1", "event", "Figma design workshop"),
        Item("ev2", "event", "Python pandas office hours"),
        Item("ev3", "event", "Design and python portfolio review"),
    ]
    emma = f.code("emma")
    first = recommend(it, emma, items)
    assert first[0].item.id == "ev2" and "python" in first[0].because
    assert all(r.item.id != "ev1" for r in first)  # nothing in common: not offered
    # Shown ev2 three times and ignored it, engaged with ev3 twice.
    after = recommend(it, emma, items, engaged={"ev3": 2}, ignored={"ev2": 3})
    assert after[0].item.id == "ev3"
    chans = channel_items(it, list(f.channels))
    assert recommend(it, f.code("li"), chans)[0].item.id == "design"


def test_who_knows_finds_the_answerer():
    c = Chat()
    q = c.say("bob", "How do I merge two pandas dataframes?", 0)
    c.say("emma", "Use pandas merge on the key column, python makes it easy", 1, reply_to=q)
    q2 = c.say("bob", "Which python version for django?", 2)
    c.say("emma", "python 3.12 works with django 5", 3, reply_to=q2)
    c.say("li", "我喜欢这个设计的配色", 4)
    f = frame_from_events(c.events)
    it = interests(f, TAXONOMY, vocabulary=0)
    answers = member_features(f, now=f.ts.max() + 1).column("questions_answered")
    experts = who_knows(it, "pandas dataframe merge is slow, any idea?", answers, exclude=[f.code("bob")])
    assert experts and f.members[experts[0].member] == "emma"
    assert all(f.members[e.member] != "bob" for e in experts)
    zh = who_knows(it, "设计配色怎么选？", answers)
    assert f.members[zh[0].member] == "li"


def test_health_questions_cohorts_and_quiet_members():
    c = Chat()
    q = c.say("bob", "How do I start?", 0)
    c.say("emma", "Read the rubric", 0.5, reply_to=q)
    c.say("bob", "Anyone around?", 1)
    for d in range(30):
        c.say("olga", "daily note", 24 * d)
    for d in range(8):
        c.say("max", "early days", 24 * d)
    f = frame_from_events(c.events)
    now = f.ts.max() + 3600
    qs = question_stats(f, now)
    assert (qs.asked, qs.answered) == (2, 1) and qs.median_first_answer_minutes == 30.0
    assert [f.members[m] for m in going_quiet(f, now, quiet_days=14, before_days=30)] == ["max"]
    _, sizes, R = cohort_retention(f, now, weeks=5)
    assert sizes.sum() == 4 and np.nanmax(R) <= 1.0
    h = health(f, now)
    assert h["mau"] == 4 and h["dau"] == 1 and h["answered_share_30d"] == 0.5


def test_who_knows_credits_answerers_with_the_questions_they_answered():
    c = Chat()
    q = c.say("bob", "How do I merge two pandas dataframes?", 0)
    c.say("emma", "Use join on the key column.", 1, reply_to=q)
    c.say("zed", "I also wonder how to merge pandas dataframes?", 2)
    for i in range(3):
        c.say("amy", f"nice weather today {i}", 3 + i)
    f = frame_from_events(c.events)
    it = interests(f, {}, vocabulary=0)
    answers = member_features(f, now=f.ts.max() + 1).column("questions_answered")
    experts = who_knows(it, "merging dataframes in pandas, anyone?", answers, exclude=[f.code("bob")])
    assert [f.members[e.member] for e in experts][:2] == ["emma", "zed"]
    assert "amy" not in {f.members[e.member] for e in experts}
