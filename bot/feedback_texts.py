"""Chat texts of the feedback inbox and the dashboard sign-in, English and Chinese."""

from bot import i18n

texts = {
    "en": {
        "cmd.help.feedback": "send feedback or a complaint to the admins (privately answered)",
        "cmd.help.dashboard": "get a private one-time sign-in link to the admin dashboard",
        "fb.usage": "Usage: /feedback TEXT — tell the admins what you think; only they see it.",
        "fb.thanks": "Thank you! Your feedback #{id} for {title} reached the admins. Their answer will come here.",
        "fb.no_group": "I don't know which community this is for: send /feedback in your community's group.",
        "fb.disabled": "Feedback is switched off in this community.",
        "fb.answer": "Answer to your feedback #{id} ({title}):\n“{question}”\n\n{answer}",
        "fb.uncategorised": "uncategorised",
        "fb.sum.head": "📬 Weekly feedback summary — {title}",
        "fb.sum.total": "New items this week: {n}",
        "fb.sum.themes": "Themes:",
        "fb.sum.response": "Answered: {n}; median time to first response: {median}",
        "fb.sum.unanswered": "Still unanswered: {n}",
        "dash.link": "Your dashboard sign-in link (one use, valid {minutes} minutes):\n{url}",
        "dash.sent": "I sent you a private sign-in link.",
        "dash.not_admin": "You are not an admin of any community I serve.",
        "dash.off": "The dashboard is not enabled ([web] enabled = false).",
        "dash.no_private": "I could not message you privately: start a private chat with me first, then try again.",
    },
    "zh-CN": {
        "cmd.help.feedback": "向管理员发送意见或投诉（私下回复）",
        "cmd.help.dashboard": "私信获取管理后台的一次性登录链接",
        "fb.usage": "用法：/feedback 内容 —— 把你的想法告诉管理员，只有他们能看到。",
        "fb.thanks": "谢谢！你对 {title} 的反馈 #{id} 已送达管理员，回复会发到这里。",
        "fb.no_group": "我不知道这是给哪个社群的：请在社群的群组里发送 /feedback。",
        "fb.disabled": "本社群已关闭反馈功能。",
        "fb.answer": "你的反馈 #{id}（{title}）的回复：\n“{question}”\n\n{answer}",
        "fb.uncategorised": "未分类",
        "fb.sum.head": "📬 每周反馈汇总 —— {title}",
        "fb.sum.total": "本周新反馈：{n} 条",
        "fb.sum.themes": "主题：",
        "fb.sum.response": "已回复：{n} 条；首次回复时间中位数：{median}",
        "fb.sum.unanswered": "尚未回复：{n} 条",
        "dash.link": "你的管理后台登录链接（仅可使用一次，{minutes} 分钟内有效）：\n{url}",
        "dash.sent": "登录链接已私信发给你。",
        "dash.not_admin": "你不是我所服务的任何社群的管理员。",
        "dash.off": "管理后台未启用（[web] enabled = false）。",
        "dash.no_private": "无法私信你：请先和我开启私聊，然后再试。",
    },
}

i18n.add(texts)
