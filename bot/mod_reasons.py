"""Moderation check reasons in the group's language.

The checks (`scoring/`, no i18n there) write their reasons in English, and flags store
them as written, so a moderator can always read what the check saw. Alerts and `/flags`
show them in the group's language: each known reason shape is a pattern here with its
translation. A reason of an unknown shape (a check added later) is shown as written.

    reason_text("flood", "messages 7/5 in 10s", "zh-CN") → "刷屏：10 秒内 7 条消息（上限 5）"
"""

from __future__ import annotations

import re

#: Check names as moderators read them.
CHECK_NAMES = {
    "zh-CN": {
        "flood": "刷屏", "repeat": "重复发送", "raid": "群发", "newcomer": "新成员", "mentions": "提及",
        "shouting": "大写字母", "symbols": "特殊字符", "blocklist": "屏蔽词", "spam": "垃圾信息模型",
        "anomaly": "异常行为", "report": "成员举报",
    },
}

_N = r"(\d+(?:\.\d+)?)"

#: (pattern, zh-CN template) per reason shape, tried in order; groups fill {0}, {1}, …
_ZH: list[tuple[re.Pattern, str]] = [(re.compile(p + r"\Z"), t) for p, t in [
    (rf"messages {_N}/{_N} in {_N}s", "{2} 秒内 {0} 条消息（上限 {1}）"),
    (rf"repeats 1/{_N} \(short text\)", "重复 1/{0}（文字太短，不计）"),
    (rf"repeats {_N}/{_N} in {_N}s", "{2} 秒内重复 {0} 次（上限 {1}）"),
    (rf"joins {_N}/{_N} in {_N}s", "{2} 秒内加入 {0} 人（阈值 {1}）"),
    (rf"raid 1/{_N} members \(short text\)", "群发 1/{0}（文字太短，不计）"),
    (rf"same text from {_N}/{_N} members in {_N}s \(similarity {_N}\)", "{2} 秒内 {0} 位成员发送相同内容（阈值 {1}，相似度 {3}）"),
    (rf"same text from {_N}/{_N} members in {_N}s", "{2} 秒内 {0} 位成员发送相同内容（阈值 {1}）"),
    (rf"member since {_N}h, message {_N}: not new", "入群 {0} 小时，第 {1} 条消息：不是新成员"),
    (rf"new member \(message {_N}, {_N}h\), nothing risky", "第 {0} 条消息，入群 {1} 小时，内容无风险"),
    (rf"new member \(message {_N}, {_N}h\) posted (.+)", "第 {0} 条消息，入群 {1} 小时，发了{2}"),
    (rf"mentions {_N}/{_N}", "提及 {0} 人（上限 {1}）"),
    (rf"caps n/a \({_N} letters\)", "字母太少（{0} 个），不检查大写"),
    (rf"caps {_N}% of {_N} letters \(max {_N}%\)", "{1} 个字母中大写占 {0}%（上限 {2}%）"),
    (rf"(.+): emoji {_N}/{_N}, combining {_N}/{_N}, invisible {_N}/{_N}",
     "{0}：表情 {1}/{2}，组合字符 {3}/{4}，不可见字符 {5}/{6}"),
    (rf"emoji {_N}/{_N}, combining {_N}/{_N}, invisible {_N}/{_N}", "表情 {0}/{1}，组合字符 {2}/{3}，不可见字符 {4}/{5}"),
    (r"blocklist empty", "屏蔽词列表为空"),
    (r"blocked: (.+) \(spaced out\)", "命中屏蔽词 {0}（字母间插入了空格）"),
    (r"blocked: (.+)", "命中屏蔽词 {0}"),
    (rf"no match among {_N} entries", "未命中 {0} 个屏蔽词"),
    (r"spam n/a \(short text\)", "文字太短，不判断"),
    (rf"spam {_N} < {_N}", "垃圾信息概率 {0}，低于阈值 {1}"),
    (rf"spam {_N} ≥ {_N}: (.+)", "垃圾信息概率 {0}，达到阈值 {1}：{2}"),
    (rf"rate {_N}/10min \(below {_N}\)", "10 分钟 {0} 条（低于 {1}，不检查）"),
    (rf"rate {_N}/10min(.*)", "10 分钟 {0} 条{1}"),
]]

#: Words inside reasons (what a newcomer posted, which symbols, anomaly statistics).
_ZH_WORDS = [
    (re.compile(r"(\d+) link\(s\)"), r"\1 个链接"), (re.compile(r"\binvite link\b"), "邀请链接"),
    (re.compile(r"\bforward\b"), "转发"), (re.compile(r"\bmention\b"), "提及"),
    (re.compile(r"\binvisible characters\b"), "不可见字符"), (re.compile(r"\bzalgo\b"), "叠加字符"),
    (re.compile(r"\bemoji\b"), "表情"), (re.compile(r" and "), "和"), (re.compile(r", "), "、"),
    (re.compile(r"z own (-?\d+(?:\.\d+)?)"), r"本人基线 z 值 \1"), (re.compile(r"z group (-?\d+(?:\.\d+)?)"), r"群基线 z 值 \1"),
    (re.compile(r"isolation (\d+(?:\.\d+)?)"), r"孤立森林 \1"),
    (re.compile(r"\bphoto\b"), "图片"), (re.compile(r"\bvideo\b"), "视频"), (re.compile(r"\bdocument\b"), "文件"),
    (re.compile(r"\bsticker\b"), "贴纸"), (re.compile(r"\bvoice\b"), "语音"), (re.compile(r"\banimation\b"), "动图"),
]


def _words(text: str) -> str:
    for pat, rep in _ZH_WORDS:
        text = pat.sub(rep, text)
    return text


def check_name(name: str, lang: str) -> str:
    """A check's name for moderators in `lang` ("flood" → "刷屏")."""
    return CHECK_NAMES.get(lang, {}).get(name, name)


def reason_text(check: str, reason: str, lang: str) -> str:
    """A check's reason in `lang`: "name: reason", translated where the shape is known."""
    if lang != "zh-CN":
        return f"{check}: {reason}"
    for pat, template in _ZH:
        m = pat.match(reason)
        if m:
            parts = list(m.groups())
            # Free text inside a reason (what was posted, which symbols) gets word by word.
            parts = [_words(p) if not re.fullmatch(r"-?\d+(?:\.\d+)?", p) and "'" not in p else p for p in parts]
            return f"{check_name(check, lang)}：{template.format(*parts)}"
    return f"{check_name(check, lang)}：{reason}"
