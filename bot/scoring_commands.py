"""/recommend (with buttons that record engagement), /whoknows and /stats."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from adapters.base import Button, Reply
from bot.commands import Ctx, UsageError
from bot.scoring_data import Snapshot, chat_snapshot
from scoring.features import COL
from scoring.health import health
from scoring.lifecycle import stage, weekly_series
from scoring.recommend import Item, channel_items, recommend, who_knows
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

#: Sources of things to recommend: async fn(app, group, snapshot) -> list[Item].
#: Scoring adds channels and topics; the scheduler can add upcoming community events
#: with `add_recommend_source(app, fn)`.
Source = Callable[["App", GroupInfo, Snapshot], Awaitable[list[Item]]]


def add_recommend_source(app: App, fn: Source) -> None:
    """Register another source of recommendable items."""
    app.services.setdefault("recommend_sources", []).append(fn)


async def _channels(app: App, group: GroupInfo, snap: Snapshot) -> list[Item]:
    if snap.interests is None:
        return []
    return channel_items(snap.interests, [str(c) for c in snap.frame.channels])


async def _topics(app: App, group: GroupInfo, snap: Snapshot) -> list[Item]:
    it = snap.interests
    if it is None:
        return []
    n = len(it.tags)
    return [Item(f"topic:{t}", "topic", t, tuple(1.0 if j == i else 0.0 for j in range(n))) for i, t in enumerate(it.tags)]


async def cmd_recommend(ctx: Ctx):
    """/recommend: the member's best-fitting items, each with a button."""
    app, group = ctx.app, ctx.group
    snap = await chat_snapshot(ctx)
    if snap is None:
        return ctx.t("scores.warming")
    code = snap.frame.code(ctx.event.member_id or "")
    if snap.interests is None or code < 0:
        return ctx.t("recommend.none")
    items: list[Item] = []
    for src in app.services.get("recommend_sources", []):
        items.extend(await src(app, group, snap))
    log = app.services["recommendation_log"]
    engaged, ignored = await log.counts(group.pk, ctx.event.member_id)
    settings = await app.settings("scoring", group)
    # Channels the member already writes in most are not news to them.
    own = snap.frame.channel[(snap.frame.member == code)]
    home = [str(snap.frame.channels[c]) for c in set(own[own >= 0].tolist()) if (own == c).sum() >= 3]
    recs = recommend(
        snap.interests, code, items, engaged, ignored,
        boost=settings.recommend_boost, penalty=settings.recommend_penalty, k=4, exclude=home,
    )
    if not recs:
        return ctx.t("recommend.none")
    await log.shown(group.pk, ctx.event.member_id, [(r.item.id, r.item.kind) for r in recs], ctx.event.time.timestamp())
    pending = await app.services["scoring"].pending(group.pk)
    pending.update((ctx.event.member_id, r.item.id) for r in recs if r.item.kind == "channel")
    lines = [ctx.t("recommend.head")]
    for r in recs:
        lines.append(ctx.t("recommend.line", title=r.item.title, kind=ctx.t(f"recommend.kind.{r.item.kind}"), because=", ".join(r.because)))
    buttons = [[Button(f"👍 {r.item.title}"[:40], f"rec:{r.item.id}"[:64])] for r in recs]
    return ctx.reply("\n".join(lines), buttons=buttons)


async def press_recommend(ctx: Ctx):
    """A recommendation's button: the member took it up."""
    item = ctx.payload
    if not item:
        raise UsageError("")
    await ctx.app.services["recommendation_log"].engaged(ctx.group.pk, ctx.event.member_id, item, ctx.event.time.timestamp())
    title = item.split(":", 1)[1] if item.startswith("topic:") else item
    return ctx.reply(ctx.t("recommend.thanks", title=title), private_to=ctx.event.member_id, ephemeral=True)


async def cmd_whoknows(ctx: Ctx) -> str:
    """/whoknows <question>"""
    question = ctx.arg_text.strip()
    if not question:
        raise UsageError(ctx.t("whoknows.usage"))
    snap = await chat_snapshot(ctx)
    if snap is None:
        return ctx.t("scores.warming")
    if snap.interests is None:
        return ctx.t("whoknows.none")
    f = snap.frame
    answers = snap.windows["all"].features.X[:, COL["questions_answered"]]
    asker = f.code(ctx.event.member_id or "")
    experts = who_knows(snap.interests, question, answers, exclude=[asker] if asker >= 0 else [], bots=f.member_bot())
    if not experts:
        return ctx.t("whoknows.none")
    lines = [ctx.t("whoknows.head")]
    for e in experts:
        why = []
        if e.text > 0.1:
            why.append(ctx.t("whoknows.why.text"))
        tags = [t for t, _ in snap.interests.top_tags(e.member, k=2)]
        if e.tags > 0 and tags:
            why.append(ctx.t("whoknows.why.tags", tags=", ".join(tags)))
        if answers[e.member] >= 1:
            why.append(ctx.t("whoknows.why.answers", n=int(round(answers[e.member]))))
        lines.append(ctx.t("whoknows.line", name=f.name(e.member), why="; ".join(why)))
    return "\n".join(lines)


def stats_text(ctx_t, snap: Snapshot) -> str:
    """The health and stage lines of /stats and the text report (ctx_t: i18n lookup)."""
    st = stage(weekly_series(snap.frame, snap.now))
    h = health(snap.frame, snap.now)
    median = h["median_first_answer_minutes"]
    median_s = "—" if median is None else (f"{median:.0f} min" if median < 120 else f"{median / 60:.1f} h")
    quiet = [snap.frame.name(snap.frame.code(m)) for m in h["going_quiet"][:5]]
    retention = "—" if h["week1_retention"] is None else f"{h['week1_retention']:.0%}"
    return "\n".join(
        [
            ctx_t("stats.stage", stage=ctx_t(f"stage.{st.stage}"), rule=ctx_t(f"lifecycle.{st.rule_id}", **st.args)),
            ctx_t("stats.active", dau=h["dau"], wau=h["wau"], mau=h["mau"]),
            ctx_t("stats.questions", asked=h["questions_30d"], share=f"{h['answered_share_30d']:.0%}", median=median_s),
            ctx_t("stats.retention", retention=retention),
            ctx_t("stats.quiet", names=", ".join(quiet)) if quiet else ctx_t("stats.no_quiet"),
        ]
    )


async def cmd_stats(ctx: Ctx) -> Reply:
    """/stats (admins): chart of daily messages and active members, stage, health."""
    from bot.charts import daily_chart

    snap = await chat_snapshot(ctx)
    if snap is None:
        return ctx.reply(ctx.t("scores.warming"))
    text = stats_text(ctx.t, snap)
    png = await asyncio.to_thread(daily_chart, snap.frame, snap.now, ctx.group.title or ctx.group.group_id, ctx.lang)
    return ctx.reply(text, image=png)


def install(app: App) -> None:
    """Register /recommend, /whoknows, /stats and the recommendation button."""
    add_recommend_source(app, _channels)
    add_recommend_source(app, _topics)
    r = app.router
    r.command("recommend", usage="/recommend", help_key="cmd.help.recommend")(cmd_recommend)
    r.command("whoknows", usage="/whoknows <question>", help_key="cmd.help.whoknows")(cmd_whoknows)
    r.command("stats", usage="/stats", help_key="cmd.help.stats", admin=True)(cmd_stats)
    r.button("rec")(press_recommend)
