"""Simplified Chinese for the dashboard's own words (menus, headings, buttons, labels).

Templates write English and wrap it in `_()`; a community whose language is zh-CN sees
these. Data (names, messages, feedback, settings docs) is shown as it is.
"""

ZH: dict[str, str] = {
    "Overview": "概览", "Members": "成员", "Moderation": "审核", "Events": "活动", "Rewards": "奖励",
    "Feedback": "反馈", "Settings": "设置", "Audit log": "操作日志", "Sign out": "退出登录",
    "Moderation queue": "待审核", "Feedback inbox": "反馈收件箱", "Health": "健康度",
    "Messages per week": "每周消息数", "Busiest members": "最活跃成员", "members": "成员",
    "messages": "消息", "joins": "加入", "leaves": "离开", "feedback waiting": "待处理反馈",
    "flags to decide": "待审核标记", "upcoming events": "即将举行的活动", "redemptions to approve": "待批准兑换",
    "new": "新", "answered": "已回复", "closed": "已关闭", "median first response": "首次回复中位时间",
    "All": "全部", "From": "来自", "Category": "分类", "Status": "状态", "Received": "收到时间",
    "First response": "首次回复", "Answer": "回复", "Answer again": "再次回复", "Send answer": "发送回复",
    "Save category": "保存分类", "Save status": "保存状态", "Save": "保存", "Search": "搜索",
    "Member": "成员", "Activity": "活跃度", "Influence": "影响力", "Points": "积分", "Messages": "消息",
    "Replies got": "收到回复", "Last seen": "最近出现", "First seen": "首次出现",
    "Activity over time": "活跃度变化", "Interests": "兴趣", "Strongest connections": "联系最紧密的成员",
    "Points history": "积分记录", "Flags": "标记", "Recent messages": "最近消息", "Feedback sent": "提交的反馈",
    "Spam: delete and ban": "垃圾消息：删除并封禁", "Not spam": "不是垃圾消息", "Recently decided": "最近处理",
    "Decision": "处理结果", "By": "处理人", "When": "时间", "Message": "消息",
    "New event": "新活动", "Title": "标题", "Date": "日期", "Time": "时间", "Length (minutes)": "时长（分钟）",
    "Description": "说明", "Create and announce": "创建并公告", "Edit": "编辑", "Save changes": "保存修改",
    "Cancel event": "取消活动", "RSVPs": "报名", "Attendance (checked in)": "签到",
    "Redemptions": "兑换申请", "Catalog": "奖励目录", "Reward": "奖励", "Cost": "所需积分", "Stock": "库存",
    "Requested": "申请时间", "Approve": "批准", "Deny": "拒绝", "Remove": "移除",
    "Add or change a reward": "添加或修改奖励", "Key": "键", "Value": "值", "About": "说明",
    "Who": "操作人", "What": "操作", "Detail": "详情", "Your communities": "你的社群",
    "active today": "今日活跃", "active this week": "本周活跃", "active this month": "本月活跃",
    "stickiness (day/month)": "黏性（日/月）", "questions, 30 days": "30 天内提问", "median first answer": "首次回答中位时间",
    "week-1 retention": "首周留存", "going quiet": "逐渐沉默", "Lifecycle stage:": "生命周期阶段：",
    "first seen": "首次出现", "last message": "最近消息",
}


def translator(lang: str):
    """`_` for templates: Chinese for zh-CN, the English text otherwise."""
    if lang == "zh-CN":
        return lambda text: ZH.get(text, text)
    return lambda text: text
