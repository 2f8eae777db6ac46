"""The demo's sample community, generated with a fixed seed and written as a genuine
Telegram Desktop export, so the demo exercises the real importer.

About 60 members over 12 weeks of a data-science course group (English and Chinese):
an instructor, a few experts that many people reply to, busy and quiet members,
question threads with answers, thanks and reactions, joins and leaves, a burst of spam
from new accounts in week 9 and a raid of 20 accounts in week 11.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

CHAT_ID = 1876543210
CHAT_NAME = "Course 101 · Data Science"


def default_start(now: datetime | None = None) -> datetime:
    """12 weeks before today's midnight (UTC), so the sample ends about now (charts of
    the last 30 days and "active this week" show live-looking data)."""
    now = now or datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(weeks=WEEKS)

WEEKS = 12

NAMES_EN = [
    "Alice Chen", "Bob Smith", "Carol Diaz", "Dmitri Ivanov", "Emma Wilson", "Farid Khan",
    "Grace Park", "Hugo Martin", "Isla Brown", "Jonas Weber", "Kira Sato", "Liam O'Neil",
    "Mia Rossi", "Noah Kim", "Olga Petrova", "Priya Nair", "Quinn Taylor", "Rosa Alvarez",
    "Sam Lee", "Tariq Aziz", "Uma Patel", "Victor Hugo", "Wen Li", "Xavier Dupont",
    "Yara Haddad", "Zoe Clark", "Arjun Rao", "Bianca Costa", "Chloe Moreau", "Daniel Novak",
    "Elena Popescu", "Felix Wagner", "Gabriel Silva", "Hana Yamamoto",
]
NAMES_ZH = [
    "王磊", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄蕾", "周杰", "吴昊",
    "徐婷", "孙浩", "马丽", "朱琳", "胡军", "郭强", "何雪", "林峰", "高原", "罗平",
    "梁晨", "宋佳", "郑凯",
]

TOPICS_EN = {
    "python": ["How do I install pandas in a virtualenv?", "Why does my for loop over a DataFrame take forever?",
               "Is it ok to use list comprehensions for this?", "How do I read a 2 GB CSV without running out of memory?"],
    "statistics": ["Can someone explain p-values in plain words?", "When should I use a t-test vs Mann-Whitney?",
                   "Why is my confidence interval so wide?", "Is correlation enough to claim an effect here?"],
    "machine learning": ["My random forest overfits, what should I tune first?", "How do I pick k for k-means?",
                         "Is accuracy a good metric for an imbalanced dataset?", "What's the difference between L1 and L2?"],
    "career": ["Has anyone interviewed for a data analyst role recently?", "How do you present a capstone project in a portfolio?",
               "Which certificates actually matter to employers?"],
    "capstone": ["How do I start the capstone?", "Where is the rubric for the capstone?",
                 "Can the capstone use our own company data?", "What's the deadline for the capstone proposal?"],
}
TOPICS_ZH = {
    "python": ["pandas 怎么在虚拟环境里安装？", "DataFrame 循环为什么这么慢？", "读取 2GB 的 CSV 内存不够怎么办？"],
    "statistics": ["谁能用通俗的话解释一下 p 值？", "什么时候用 t 检验，什么时候用秩和检验？"],
    "machine learning": ["随机森林过拟合了，先调哪个参数？", "k-means 的 k 怎么选？", "样本不平衡时准确率还能用吗？"],
    "career": ["最近有人面试过数据分析师岗位吗？", "作品集里怎么展示毕业项目？"],
    "capstone": ["毕业项目怎么开始？", "毕业项目的评分标准在哪里？", "毕业项目可以用公司的数据吗？"],
}
ANSWERS_EN = [
    "Start from the rubric, then pick a dataset you care about.", "Use chunksize in read_csv, or try polars.",
    "Vectorise it: df['x'] * 2 instead of iterating rows.", "Try max_depth and min_samples_leaf first.",
    "Use the elbow plot and silhouette score together.", "Look at precision/recall or F1 instead of accuracy.",
    "A p-value is how surprising your data would be if nothing were going on.", "Check the slides from week 3, it's explained there.",
    "I had the same issue, pip install inside the activated venv fixed it.", "Here's a good write-up: https://scikit-learn.org/stable/modules/cross_validation.html",
]
ANSWERS_ZH = [
    "先看评分标准，再选一个你感兴趣的数据集。", "read_csv 用 chunksize 分块读取就行。", "用向量化操作，别逐行循环。",
    "先调 max_depth 和 min_samples_leaf。", "肘部法和轮廓系数一起看。", "不平衡数据看 F1 或者召回率更合适。",
    "第三周的课件里有讲，可以回看一下。",
]
THANKS_EN = ["Thanks, that worked!", "Thank you so much 🙏", "Perfect, thanks!", "Got it, thanks a lot."]
THANKS_ZH = ["谢谢，解决了！", "太感谢了 🙏", "明白了，谢谢！"]
CHAT_EN = ["Good morning everyone!", "Who's joining the study session tonight?", "Week 4 lecture was great.",
           "Just submitted my assignment 🎉", "Anyone else stuck on exercise 3?", "Sharing my notes from today's class.",
           "The live Q&A is on Thursday 19:00.", "Coffee break, back in 10."]
CHAT_ZH = ["大家早上好！", "今晚的学习小组有人参加吗？", "第四周的课讲得真好。", "作业交了 🎉", "第三题有人卡住了吗？",
           "分享一下今天的课堂笔记。"]
SPAM = [
    "💰 Earn $500 a day from home! No experience needed, DM me now 👉 https://bit.ly/earn-fast-now",
    "🚀 Free crypto signals, 300% profit guaranteed! Join https://t.me/crypto_pump_signals",
    "Selling the full Data Science course + all answers for $20, message me https://t.me/cheap_courses_shop",
    "兼职日赚500元，在家就能做，私聊我 https://t.me/jianzhi_money",
    "Ваш аккаунт будет заблокирован, подтвердите данные: https://telegrarn-verify.com/login",
]
RAID = "🔥 FREE signals group, 10x guaranteed, join now: https://t.me/moonshot_{n} 🚀🚀"


@dataclass
class _Member:
    uid: int
    name: str
    lang: str
    weight: float
    expert: bool = False
    joined: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    left: datetime | None = None


class _Writer:
    """Writes messages into a Telegram Desktop export as they are generated."""

    def __init__(self, f: IO[str]) -> None:
        self.f = f
        self.next_id = 1
        self.first = True

    def write(self, msg: dict[str, Any]) -> int:
        msg = {"id": self.next_id, **msg}
        self.next_id += 1
        self.f.write(("\n  " if self.first else ",\n  ") + json.dumps(msg, ensure_ascii=False))
        self.first = False
        return msg["id"]


def _stamp(t: datetime) -> dict[str, str]:
    # Telegram writes `date` in the exporter's local time; the sample's exporter is on UTC.
    return {"date": t.strftime("%Y-%m-%dT%H:%M:%S"), "date_unixtime": str(int(t.timestamp()))}


def _text_fields(text: str) -> dict[str, Any]:
    ents: list[dict[str, Any]] = []
    parts: list[Any] = []
    for token in text.split(" "):
        if parts:
            parts.append(" ")
            ents.append({"type": "plain", "text": " "})
        if token.startswith("http"):
            parts.append({"type": "link", "text": token})
            ents.append({"type": "link", "text": token})
        else:
            parts.append(token)
            ents.append({"type": "plain", "text": token})
    simple = all(isinstance(p, str) for p in parts)
    return {"text": text if simple else parts, "text_entities": ents}


def _msg(m: _Member, t: datetime, text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", **_stamp(t), "from": m.name, "from_id": f"user{m.uid}", **_text_fields(text), **extra}


def _join(m: _Member, t: datetime) -> dict[str, Any]:
    return {"type": "service", **_stamp(t), "actor": m.name, "actor_id": f"user{m.uid}",
            "action": "join_group_by_link", "inviter": "Group"}


def _leave(m: _Member, t: datetime) -> dict[str, Any]:
    return {"type": "service", **_stamp(t), "actor": m.name, "actor_id": f"user{m.uid}",
            "action": "remove_members", "members": [m.name]}


def build_members(rng: random.Random, START: datetime) -> list[_Member]:  # noqa: N803
    """The sample's people: instructor, experts, busy, normal and quiet members."""
    names = [(n, "en") for n in NAMES_EN] + [(n, "zh") for n in NAMES_ZH]
    rng.shuffle(names)
    members = [_Member(1000, "Dr. Maria Lopez", "en", 3.0, expert=True, joined=START)]
    for i, (name, lang) in enumerate(names[:59]):
        if i < 3:
            weight, expert = 2.5, True
        elif i < 11:
            weight, expert = 2.0, False
        elif i < 36:
            weight, expert = 0.8, False
        else:
            weight, expert = 0.15, False
        joined = START + timedelta(hours=rng.uniform(0, 48)) if i < 40 else START + timedelta(days=rng.uniform(7, 70))
        members.append(_Member(1001 + i, name, lang, weight, expert, joined))
    for m in rng.sample(members[12:], 6):
        m.left = m.joined + timedelta(days=rng.uniform(10, 40))
    return members


def write_sample_export(path: Path | str, seed: int = 101, start: datetime | None = None) -> dict[str, int]:
    """Write the sample community's `result.json`; returns counts of what it holds.

    The same seed gives the same community; `start` (default: 12 weeks before this
    week's Monday) only shifts it in time."""
    START = start or default_start()  # noqa: N806
    rng = random.Random(seed)
    members = build_members(rng, START)
    timeline: list[tuple[datetime, str, Any]] = []
    for m in members:
        timeline.append((m.joined, "join", m))
        if m.left:
            timeline.append((m.left, "leave", m))
    end = START + timedelta(weeks=WEEKS)
    day = START
    last = end
    cutoff = min(datetime.now(UTC), end + timedelta(hours=6))  # never a message from the future
    while day < last:
        week = (day - START).days // 7
        # Growth then a plateau: more threads as the course fills up.
        threads = rng.randint(3, 6) + min(week, 6)
        for _ in range(threads):
            t = day + timedelta(hours=rng.uniform(7, 23))
            timeline.append((t, "thread", None))
        for _ in range(rng.randint(2, 5)):
            timeline.append((day + timedelta(hours=rng.uniform(8, 22)), "chat", None))
        day += timedelta(days=1)
    burst = START + timedelta(weeks=8, days=3, hours=14)
    timeline.append((burst, "spam", None))
    timeline.append((START + timedelta(weeks=10, days=2, hours=3, minutes=17), "raid", None))
    timeline.sort(key=lambda x: x[0])

    counts = {"messages": 0, "joins": 0, "leaves": 0, "spam": 0, "raid": 0}
    path = Path(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"name": CHAT_NAME, "type": "private_supergroup", "id": CHAT_ID}, ensure_ascii=False)[:-1])
        f.write(', "messages": [')
        w = _Writer(f)
        for t, what, m in timeline:
            present = [x for x in members if x.joined <= t and (x.left is None or x.left > t)]
            if what == "join":
                w.write(_join(m, t))
                counts["joins"] += 1
            elif what == "leave":
                w.write(_leave(m, t))
                counts["leaves"] += 1
            elif what == "chat" and present:
                a = rng.choices(present, [x.weight for x in present])[0]
                w.write(_msg(a, t, rng.choice(CHAT_ZH if a.lang == "zh" else CHAT_EN)))
                counts["messages"] += 1
            elif what == "thread" and present:
                counts["messages"] += _thread(w, rng, present, t, cutoff)
            elif what == "spam":
                counts["spam"] += _spam_burst(w, rng, t, counts)
            elif what == "raid":
                counts["raid"] += _raid(w, t, counts)
        f.write("\n]}\n")
    return counts


def _thread(w: _Writer, rng: random.Random, present: list[_Member], t: datetime, cutoff: datetime) -> int:
    asker = rng.choices(present, [x.weight for x in present])[0]
    topic = rng.choice(list(TOPICS_EN))
    zh = asker.lang == "zh"
    q = rng.choice((TOPICS_ZH if zh else TOPICS_EN)[topic])
    qid = w.write(_msg(asker, t, q))
    n = 1
    experts = [x for x in present if x.expert and x is not asker]
    others = [x for x in present if x is not asker]
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        t += timedelta(minutes=rng.uniform(2, 180))
        if t > cutoff:
            break
        ans = rng.choice(experts) if experts and rng.random() < 0.7 else rng.choice(others)
        text = rng.choice(ANSWERS_ZH if ans.lang == "zh" else ANSWERS_EN)
        reactors = rng.sample(others, k=min(len(others), rng.randint(0, 4)))
        reactions = []
        if reactors:
            rt = t + timedelta(minutes=5)
            reactions = [{"type": "emoji", "count": len(reactors), "emoji": "👍",
                          "recent": [{"from": r.name, "from_id": f"user{r.uid}", "date": rt.strftime("%Y-%m-%dT%H:%M:%S")}
                                     for r in reactors if r is not ans]}]
        aid = w.write(_msg(ans, t, text, reply_to_message_id=qid, **({"reactions": reactions} if reactions else {})))
        n += 1
        if rng.random() < 0.5 and t + timedelta(minutes=60) < cutoff:
            t += timedelta(minutes=rng.uniform(1, 60))
            w.write(_msg(asker, t, rng.choice(THANKS_ZH if zh else THANKS_EN), reply_to_message_id=aid))
            n += 1
    return n


def _spam_burst(w: _Writer, rng: random.Random, t: datetime, counts: dict[str, int]) -> int:
    n = 0
    for i, text in enumerate(SPAM):
        acct = _Member(7000 + i, rng.choice(["Crypto Queen", "Jobs Daily", "Course Deals", "赚钱小助手", "Support Team"]), "en", 0)
        w.write(_join(acct, t))
        counts["joins"] += 1
        t += timedelta(seconds=rng.uniform(20, 90))
        w.write(_msg(acct, t, text))
        n += 1
        t += timedelta(minutes=rng.uniform(1, 5))
    return n


def _raid(w: _Writer, t: datetime, counts: dict[str, int]) -> int:
    accts = [_Member(8000 + i, f"moon{i:02d}", "en", 0) for i in range(20)]
    for i, a in enumerate(accts):
        w.write(_join(a, t + timedelta(seconds=3 * i)))
        counts["joins"] += 1
    t += timedelta(seconds=70)
    for i, a in enumerate(accts):
        w.write(_msg(a, t + timedelta(seconds=2 * i), RAID.format(n=i % 3)))
    return len(accts)
