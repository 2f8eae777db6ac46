"""Members' feedback inbox: `/feedback <text>` in the group or privately, categorised by
character n-gram similarity, answered from the dashboard (the bot delivers the answer
privately), and summarised weekly to the admins.

The handling functions here (`answer`, `set_category`, `set_status`) are what the
dashboard calls; they write the audit log and teach the categoriser.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from adapters.base import Reply
from bot.commands import Ctx, UsageError
from bot.config import register_section, setting
from bot.feedback_texts import texts  # noqa: F401 - registers the catalog
from scoring.feedback_cat import Categoriser, Guess
from storage.dashboard import FEEDBACK_STATUSES, DashboardStore
from storage.models import EventRow, Group, GroupMember
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

DEFAULT_CATEGORIES: dict[str, list[str]] = {
    "course content": [
        "course", "lesson", "lecture", "module", "video", "homework", "assignment", "material", "slides",
        "exercise", "chapter", "teacher", "课程", "课件", "讲座", "视频", "作业", "资料", "内容", "章节", "练习", "老师",
    ],
    "technical problem": [
        "bug", "error", "crash", "login", "log in", "password", "can't open", "cannot open", "not working",
        "doesn't work", "broken", "loading", "app", "website", "打不开", "无法", "登录", "登不上", "密码", "报错",
        "错误", "崩溃", "加载", "闪退", "卡住",
    ],
    "billing": [
        "payment", "pay", "paid", "refund", "invoice", "charge", "price", "subscription", "renew", "receipt",
        "付款", "支付", "退款", "发票", "扣费", "价格", "续费", "订阅", "收费",
    ],
    "member conduct": [
        "spam", "rude", "harass", "insult", "abuse", "troll", "offensive", "advert", "scam", "骚扰", "辱骂", "广告",
        "骗子", "刷屏", "不礼貌", "人身攻击",
    ],
    "suggestion": [
        "suggest", "idea", "would be nice", "could you", "please add", "feature", "wish", "improve", "建议", "希望",
        "能不能", "增加", "想法", "改进",
    ],
}


@dataclass
class FeedbackSettings:
    """The members' feedback inbox."""

    enabled: bool = setting(True, "Accept /feedback from members.")
    categories: dict[str, list[str]] = setting(
        DEFAULT_CATEGORIES, "Taxonomy: category name → keywords (any language) that suggest it."
    )
    summary_weekday: int = setting(0, "Weekday of the weekly summary to admins (0 = Monday … 6 = Sunday).")
    summary_hour: int = setting(9, "Hour (group's time zone) of the weekly summary.")
    summary_chat: str = setting("", "Chat id for the weekly summary; empty sends it privately to each admin.")
    min_length: int = setting(3, "Shortest feedback text accepted, in characters.")

    def check(self) -> str | None:
        """Weekday and hour in range; every category has a name."""
        if not 0 <= self.summary_weekday <= 6:
            return f"key 'summary_weekday' must be 0..6, got {self.summary_weekday}"
        if not 0 <= self.summary_hour <= 23:
            return f"key 'summary_hour' must be 0..23, got {self.summary_hour}"
        if any(not name.strip() for name in self.categories):
            return "key 'categories' has a category with an empty name"
        return None


register_section("feedback", FeedbackSettings)


class FeedbackService:
    """Per-group categorisers (built from config plus admin labels) and the store."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._cats: dict[int, tuple[tuple, Categoriser]] = {}

    @property
    def store(self) -> DashboardStore:
        """The dashboard tables on the app's engine."""
        return DashboardStore(self.app.store.engine)

    async def categoriser(self, group: GroupInfo) -> Categoriser:
        """The group's categoriser; rebuilt when its taxonomy setting changed."""
        s: FeedbackSettings = await self.app.settings("feedback", group)
        sig = tuple((k, tuple(v)) for k, v in s.categories.items())
        cached = self._cats.get(group.pk)
        if cached and cached[0] == sig:
            return cached[1]
        cat = Categoriser(s.categories, list(reversed(await self.store.labelled_examples(group.pk))))
        self._cats[group.pk] = (sig, cat)
        return cat

    async def categories(self, group: GroupInfo) -> list[str]:
        """The group's category names (taxonomy first, then ones admins added)."""
        return list((await self.categoriser(group)).categories)

    async def submit(self, group: GroupInfo, key: str, member_id: str, member_name: str, text: str) -> tuple[int | None, Guess]:
        """Categorise and store a feedback item; (id or None if a redelivery, guess)."""
        guess = (await self.categoriser(group)).predict(text)
        now = self.app.clock.now().timestamp()
        item_id = await self.store.add_feedback(group.pk, key, member_id, member_name, text, guess.category, guess.score, now)
        return item_id, guess


def service(app: App) -> FeedbackService:
    """The app's feedback service (created on first use)."""
    svc = app.services.get("feedback")
    if svc is None:
        svc = app.services["feedback"] = FeedbackService(app)
    return svc


def is_private(event) -> bool:
    """Whether the event came from a private chat with the bot, not a community."""
    return event.data.get("chat_type") == "private" or bool(event.data.get("private"))


async def home_group(app: App, platform: str, member_id: str, exclude_group_id: str) -> GroupInfo | None:
    """The community a member most recently wrote in (for feedback sent privately)."""
    async with app.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Group.id, func.max(EventRow.ts))
                .join(GroupMember, GroupMember.group_pk == Group.id)
                .outerjoin(EventRow, (EventRow.group_pk == Group.id) & (EventRow.member_id == member_id))
                .where(Group.platform == platform, GroupMember.member_id == member_id, Group.group_id != exclude_group_id)
                .group_by(Group.id)
            )
        ).all()
    if not rows:
        return None
    pk = max(rows, key=lambda r: (r[1] or 0, r[0]))[0]
    return next((g for g in await app.store.groups() if g.pk == pk), None)


async def _feedback_cmd(ctx: Ctx) -> list[Reply]:
    app, ev = ctx.app, ctx.event
    text = ctx.arg_text.strip()
    group = ctx.group
    if is_private(ev):
        group = await home_group(app, ev.platform, ev.member_id or "", ev.group_id)
        if group is None:
            return [ctx.private(ctx.t("fb.no_group"))]
    s: FeedbackSettings = await app.settings("feedback", group)
    if not s.enabled:
        return [ctx.private(ctx.t("fb.disabled"))]
    if len(text) < s.min_length:
        raise UsageError(ctx.t("fb.usage"))
    item_id, _ = await service(app).submit(group, ev.key, ev.member_id or "", ev.member_name, text)
    if item_id is None:
        return []
    lang = await app.language(group)
    return [ctx.private(_t(lang, "fb.thanks", id=item_id, title=group.title or group.group_id))]


def _t(lang: str, key: str, **kw: Any) -> str:
    from bot import i18n

    return i18n.t(lang, key, **kw)


async def answer(app: App, group: GroupInfo, item_id: int, text: str, actor: str) -> dict[str, Any]:
    """An admin answers an item: stored, first-response time kept, status answered, the
    answer delivered privately to the member. Returns the updated item."""
    fs = service(app).store
    item = await fs.feedback(group.pk, item_id)
    if item is None:
        raise KeyError(item_id)
    text = text.strip()
    if not text:
        raise ValueError("the answer is empty")
    now = app.clock.now().timestamp()
    lang = await app.language(group)
    reply = Reply(
        group.platform, group.group_id,
        _t(lang, "fb.answer", id=item_id, title=group.title or group.group_id, question=_short(item["text"]), answer=text),
        private_to=item["member_id"],
    )
    try:
        delivered = (await app.send(reply)).ok
    except Exception:
        log.exception("delivering the answer to feedback #%s failed", item_id)
        delivered = False
    values: dict[str, Any] = {"answer": text, "answered_by": actor, "delivered": delivered}
    if item["first_response_ts"] is None:
        values["first_response_ts"] = now
    if item["status"] == "new":
        values["status"] = "answered"
    await fs.update_feedback(group.pk, item_id, **values)
    await app.store.audit(group.pk, actor, "feedback.answer", {"item": item_id, "delivered": delivered})
    return await fs.feedback(group.pk, item_id)  # type: ignore[return-value]


async def set_category(app: App, group: GroupInfo, item_id: int, category: str, actor: str) -> None:
    """An admin sets or confirms an item's category; the categoriser learns from it."""
    svc = service(app)
    item = await svc.store.feedback(group.pk, item_id)
    if item is None:
        raise KeyError(item_id)
    category = category.strip()
    if not category or len(category) > 64:
        raise ValueError("a category needs a name of 1–64 characters")
    await svc.store.update_feedback(group.pk, item_id, category=category, category_source="admin")
    (await svc.categoriser(group)).learn(item["text"], category)
    await app.store.audit(group.pk, actor, "feedback.category", {"item": item_id, "from": item["category"], "to": category})


async def set_status(app: App, group: GroupInfo, item_id: int, status: str, actor: str) -> None:
    """Move an item to new, answered or closed."""
    if status not in FEEDBACK_STATUSES:
        raise ValueError(f"status must be one of {', '.join(FEEDBACK_STATUSES)}")
    fs = service(app).store
    item = await fs.feedback(group.pk, item_id)
    if item is None:
        raise KeyError(item_id)
    values: dict[str, Any] = {"status": status}
    now = app.clock.now().timestamp()
    if status == "closed":
        values["closed_ts"] = now
        if item["first_response_ts"] is None:
            values["first_response_ts"] = now
    await fs.update_feedback(group.pk, item_id, **values)
    await app.store.audit(group.pk, actor, "feedback.status", {"item": item_id, "from": item["status"], "to": status})


async def deliver_pending(app: App) -> int:
    """Send answers saved while the chat was unreachable (e.g. typed in `communitybot
    web`); returns how many went out."""
    fs = service(app).store
    n = 0
    for group in await app.store.groups():
        if group.platform not in app.adapters:
            continue
        for item in await fs.feedback_items(group.pk, limit=10_000):
            if not item["answer"] or item["delivered"]:
                continue
            lang = await app.language(group)
            text = _t(lang, "fb.answer", id=item["id"], title=group.title or group.group_id, question=_short(item["text"]), answer=item["answer"])
            try:
                ok = (await app.send(Reply(group.platform, group.group_id, text, private_to=item["member_id"]))).ok
            except Exception:
                log.exception("delivering the answer to feedback #%s failed", item["id"])
                ok = False
            if ok:
                await fs.update_feedback(group.pk, item["id"], delivered=True)
                n += 1
    return n


def _short(text: str, n: int = 120) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


from bot.feedback_summary import maybe_send_summaries, summary_text, weekly_summary  # noqa: E402


def install(app: App) -> None:
    """Register /feedback and the weekly summary loop."""
    app.router.command("feedback", usage="/feedback TEXT", help_key="cmd.help.feedback")(_feedback_cmd)

    async def start(app_: App) -> None:
        if not app_.primary:
            return  # among shard workers, one sends the summaries
        app_.services["feedback_loop"] = asyncio.create_task(_summary_loop(app_))

    async def stop(app_: App) -> None:
        task = app_.services.pop("feedback_loop", None)
        if task:
            task.cancel()

    app.on_start.append(start)
    app.on_stop.append(stop)


async def _summary_loop(app: App, every: float = 600.0, first: float = 60.0) -> None:
    """Every few minutes: send weekly summaries that are due, and answers saved while
    the chat was unreachable. The first round waits for the adapters to connect."""
    from bot.clock import FakeClock

    if isinstance(app.clock, FakeClock):
        return  # tests drive summaries directly; a real sleep loop would only race them
    await asyncio.sleep(first)
    while True:
        try:
            await maybe_send_summaries(app, app.clock.now())
            await deliver_pending(app)
            await service(app).store.purge(app.clock.now().timestamp())
        except Exception:
            log.exception("weekly feedback summary failed")
        await asyncio.sleep(every)


__all__ = ["FeedbackSettings", "answer", "maybe_send_summaries", "set_category", "set_status", "summary_text", "weekly_summary"]


DEMO_FEEDBACK = [
    "The lesson 4 video stops halfway, can you re-upload it?",
    "I was charged twice for the annual plan",
    "登录不上，一直提示密码错误",
    "建议每周增加一次答疑直播",
    "Someone keeps sending me rude messages",
    "第三章的作业说明和视频里讲的不一样",
]


async def demo(app: App, group: GroupInfo, out) -> None:
    """`communitybot demo`: members' feedback categorised, and how to open the dashboard."""
    from rich.table import Table

    from bot.web.members_data import group_members

    members = [m for m in await group_members(app, group) if not m["is_bot"]][:len(DEMO_FEEDBACK)]
    table = Table(title="Feedback inbox (/feedback), categorised by character n-grams", show_edge=False)
    table.add_column("#", justify="right")
    table.add_column("from")
    table.add_column("feedback")
    table.add_column("category")
    table.add_column("why")
    for i, (m, text) in enumerate(zip(members, DEMO_FEEDBACK, strict=False)):
        item_id, guess = await service(app).submit(group, f"demo:feedback:{i}", m["member_id"], m["name"], text)
        table.add_row(str(item_id or "—"), m["name"], text, guess.category or "—", guess.reason)
    out.print(table)
    owner = next((m for m in members if m["role"] in ("owner", "admin")), members[0] if members else None)
    if owner:
        out.print(
            "Open the admin dashboard on this data: [bold]communitybot web --db "
            f"{app.store.url}[/bold] and, in another terminal, [bold]communitybot web-link --db {app.store.url} "
            f"--platform {group.platform} --member {owner['member_id']} --group {group.platform}:{group.group_id}[/bold] "
            "for a one-time sign-in link (in chat, admins send /dashboard)."
        )
