"""Scoring in chat: /top, /rank, /profile, /recommend, /whoknows, /stats.

Scores come from the `ScoreService` cache (`app.services["scoring"]`); a pipeline step
marks a group's cache stale when events arrive and notices when a member writes in a
channel that was recommended to them. `/top` dispatches to the boards registered in
`bot.leaderboards`, so other features (points) add their own kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import scoring_texts  # noqa: F401  (registers the reply texts)
from bot.commands import Ctx, UsageError
from bot.communities import Scope, community_of, merge, scope_for
from bot.config import register_section, setting
from bot.leaderboards import Board, add_board, boards, parse_top_args
from bot.privacy import hidden_members, is_public
from bot.scoring_data import ScoreService, ScoresWarming, chat_snapshot
from scoring.activity import DEFAULT_WEIGHTS
from scoring.features import FEATURES
from scoring.influence import DEFAULT_EDGE_WEIGHTS, DEFAULT_INFLUENCE_WEIGHTS
from storage.events import EventKind
from storage.scoring_log import RecommendationLog

if TYPE_CHECKING:
    from bot.app import App
    from bot.pipeline import Turn

#: A starting taxonomy for course and professional communities; groups replace it.
DEFAULT_TAXONOMY: dict[str, list[str]] = {
    "programming": ["python", "javascript", "code", "bug", "api", "git", "编程", "代码", "程序", "программ", "код"],
    "data": ["data", "sql", "pandas", "dashboard", "analytics", "数据", "分析", "данны", "аналити"],
    "ai": ["ai", "llm", "gpt", "model", "machine learning", "人工智能", "模型", "大模型", "нейросет", "модел"],
    "design": ["design", "figma", "ui", "ux", "设计", "配色", "дизайн"],
    "career": ["career", "job", "resume", "interview", "salary", "求职", "简历", "面试", "工作", "карьер", "резюме", "собеседован", "ваканси"],
    "product": ["product", "users", "launch", "growth", "产品", "用户", "增长", "продукт", "пользовател"],
    "writing": ["writing", "blog", "article", "newsletter", "写作", "文章", "公众号", "стать", "текст"],
}


@dataclass
class ScoringSettings:
    """Activity, influence and interest scoring."""

    half_life_days: float = setting(14.0, "Half-life of an event's weight in days (older events count less).")
    weights: dict[str, float] = setting(dict(DEFAULT_WEIGHTS), "Activity weight per feature (learned by `communitybot fit`).")
    edge_weights: dict[str, float] = setting(dict(DEFAULT_EDGE_WEIGHTS), "Interaction-graph edge weight per kind: reply, mention, reaction.")
    influence_weights: dict[str, float] = setting(dict(DEFAULT_INFLUENCE_WEIGHTS), "Weights of influence features in the blend.")
    pagerank_share: float = setting(0.6, "Share of PageRank in influence (the rest: weighted influence features).")
    damping: float = setting(0.85, "PageRank damping factor.")
    taxonomy: dict[str, list[str]] = setting(dict(DEFAULT_TAXONOMY), "Interest tags: tag → keywords in any language.")
    vocabulary_tags: int = setting(8, "Extra tags discovered from the group's own vocabulary (0: none).")
    default_window: str = setting("30d", "Window of /top and /rank when none is given: 7d, 30d or all.")
    top_size: int = setting(10, "Members shown by /top.")
    top_scope: str = setting("community", "What /top shows in a chat of a [[communities]] entry when no scope is typed: community (all its chats, linked accounts as one person), platform (its chats on this platform) or here (this chat).")
    cache_seconds: float = setting(600.0, "Recompute cached scores at least this often.")
    sync_limit: int = setting(50000, "Groups with fewer events recompute before answering; bigger ones in the background.")
    answer_seconds: float = setting(2.0, "A command waits this long for scores being computed, then says to ask again.")
    refresh_seconds: float = setting(60.0, "Big groups recompute in the background at most this often.")
    warm_on_start: bool = setting(True, "Score groups bigger than sync_limit in the background when the bot starts.")
    recommend_boost: float = setting(0.5, "How much each engagement with an item raises it.")
    recommend_penalty: float = setting(0.5, "How much each ignored showing of an item lowers it.")

    def check(self) -> str | None:
        """Name the first bad value, if any."""
        bad = set(self.weights) - set(FEATURES)
        if bad:
            return f"weights: unknown feature(s) {', '.join(sorted(bad))}; known: {', '.join(FEATURES)}"
        if set(self.edge_weights) - set(DEFAULT_EDGE_WEIGHTS):
            return f"edge_weights: known kinds are {', '.join(DEFAULT_EDGE_WEIGHTS)}"
        if set(self.influence_weights) - set(FEATURES):
            return f"influence_weights: unknown feature(s); known: {', '.join(FEATURES)}"
        if any(v < 0 for d in (self.weights, self.edge_weights, self.influence_weights) for v in d.values()):
            return "weights must not be negative"
        if self.half_life_days <= 0:
            return f"half_life_days must be positive, got {self.half_life_days}"
        if not 0 <= self.pagerank_share <= 1:
            return f"pagerank_share must be within 0..1, got {self.pagerank_share}"
        if not 0 < self.damping < 1:
            return f"damping must be between 0 and 1, got {self.damping}"
        if self.default_window not in ("7d", "30d", "all"):
            return f"default_window must be 7d, 30d or all, got {self.default_window!r}"
        if self.top_size < 1:
            return "top_size must be at least 1"
        if self.top_scope not in ("community", "platform", "here"):
            return f"top_scope must be community, platform or here, got {self.top_scope!r}"
        return None


register_section("scoring", ScoringSettings)


def service(app: App) -> ScoreService:
    """The app's score cache."""
    return app.services["scoring"]


def fmt(x: float) -> str:
    """Scores shown with one decimal, large ones without."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}"


async def _render_board(ctx: Ctx, window: str, board: str) -> str:
    snap = await chat_snapshot(ctx)
    if snap is None:
        return ctx.t("scores.warming")
    ws = snap.windows[window]
    settings = await ctx.app.settings("scoring", ctx.group)
    hidden = await hidden_members(ctx.app, ctx.group)
    order = [c for c in ws.ranking(board) if is_public(str(snap.frame.members[c]), hidden)][: settings.top_size]
    wname = ctx.t(f"window.{window}")
    if not order:
        return ctx.t("top.empty", window=wname)
    values = ws.values(board)
    lines = [ctx.t(f"top.title.{board}", window=wname)]
    lines += [ctx.t("top.line", rank=i + 1, name=snap.frame.name(c), score=fmt(values[c])) for i, c in enumerate(order)]
    return "\n".join(lines)


async def _board_activity(ctx: Ctx, window: str) -> str:
    return await _render_board(ctx, window, "activity")


async def _board_influence(ctx: Ctx, window: str) -> str:
    return await _render_board(ctx, window, "influence")


async def _render_merged(ctx: Ctx, window: str, scope: Scope, board: str) -> str:
    """The board over several chats: each chat's scores, a person's accounts added up."""
    values: dict[tuple[int, str], float] = {}
    warming = False
    for g in scope.groups:
        try:
            snap = await service(ctx.app).snapshot(g, wait=False)
        except ScoresWarming:
            warming = True
            continue
        ws = snap.windows[window]
        vals = ws.values(board)
        for c in ws.ranking(board):
            values[(g.pk, str(snap.frame.members[c]))] = float(vals[c])
    if warming and not values:
        return ctx.t("scores.warming")
    settings = await ctx.app.settings("scoring", ctx.group)
    rows = (await merge(ctx.app, scope, values, ctx.group.platform))[: settings.top_size]
    wname = ctx.t(f"window.{window}")
    if not rows:
        return ctx.t("top.empty", window=wname)
    lines = [ctx.t(f"top.title.{board}", window=wname) + " · " + scope.label()]
    lines += [ctx.t("top.line", rank=i + 1, name=r.name, score=fmt(r.value)) for i, r in enumerate(rows)]
    if warming:
        lines.append(ctx.t("top.partial"))
    return "\n".join(lines)


async def _merged_activity(ctx: Ctx, window: str, scope: Scope) -> str:
    return await _render_merged(ctx, window, scope, "activity")


async def _merged_influence(ctx: Ctx, window: str, scope: Scope) -> str:
    return await _render_merged(ctx, window, scope, "influence")


async def cmd_top(ctx: Ctx):
    """/top [activity|influence|…] [7d|30d|all] [here|community|telegram|discord]"""
    settings = await ctx.app.settings("scoring", ctx.group)
    try:
        board, window, word = parse_top_args(ctx.app, ctx.args, "activity", settings.default_window)
    except ValueError as exc:
        names = "|".join(boards(ctx.app))
        raise UsageError(ctx.t("top.usage", boards=names, windows="7d|30d|all", arg=str(exc))) from None
    try:
        scope = await scope_for(ctx.app, ctx.group, word, settings.top_scope)
    except ValueError:
        c = community_of(ctx.app, ctx.group)
        if c is None:
            raise UsageError(ctx.t("top.no_community", arg=word)) from None
        raise UsageError(ctx.t("top.bad_scope", arg=word, platforms="|".join(c.platforms()))) from None
    if scope.merged and board.render_merged is not None:
        return await board.render_merged(ctx, window, scope)
    return await board.render(ctx, window)


async def _target(ctx: Ctx) -> str:
    """The member a command is about: the one named in the arguments, else the caller."""
    ref = next((a for a in ctx.args if a.startswith("@")), None) if ctx.args else None
    if ref is None and ctx.args and ctx.name in ("rank", "profile"):
        ref = ctx.args[0]
    if ref is None:
        return ctx.event.member_id or ""
    mid = await ctx.store.find_member(ctx.group, ref)
    if mid is None:
        raise UsageError(ctx.t("rank.unknown", ref=ref))
    return mid


async def cmd_rank(ctx: Ctx) -> str:
    """/rank [@member] [7d|30d|all]"""
    settings = await ctx.app.settings("scoring", ctx.group)
    window = next((a for a in ctx.args if a in ("7d", "30d", "all")), settings.default_window)
    ctx.args = [a for a in ctx.args if a not in ("7d", "30d", "all")]
    mid = await _target(ctx)
    snap = await chat_snapshot(ctx)
    if snap is None:
        return ctx.t("scores.warming")
    code = snap.frame.code(mid)
    name = snap.frame.name(code) if code >= 0 else mid
    ws = snap.windows[window]
    wname = ctx.t(f"window.{window}")
    ar = ws.rank_of("activity", code) if code >= 0 else None
    ir = ws.rank_of("influence", code) if code >= 0 else None
    if ar is None or ir is None:
        return ctx.t("rank.none", name=name, window=wname)
    return ctx.t(
        "rank.line", name=name, window=wname, activity=fmt(ws.activity[code]), arank=ar[0], n=ar[1],
        influence=fmt(ws.influence.score[code]), irank=ir[0],
    )


async def cmd_profile(ctx: Ctx) -> str:
    """/profile [@member]"""
    from scoring.scores import strongest_connections

    mid = await _target(ctx)
    snap = await chat_snapshot(ctx)
    if snap is None:
        return ctx.t("scores.warming")
    code = snap.frame.code(mid)
    if code < 0:
        return ctx.t("rank.none", name=mid, window=ctx.t("window.all"))
    lines = [ctx.t("profile.head", name=snap.frame.name(code))]
    tags = snap.interests.top_tags(code) if snap.interests else []
    if tags:
        lines.append(ctx.t("profile.tags", tags=", ".join(f"{t} {s:.0%}" for t, s in tags)))
    else:
        lines.append(ctx.t("profile.no_tags"))
    links = strongest_connections(snap.windows["all"].influence.graph, code)
    if links:
        lines.append(ctx.t("profile.links", names=", ".join(snap.frame.name(j) for j, _ in links)))
    else:
        lines.append(ctx.t("profile.no_links"))
    return "\n".join(lines)


async def install_step(app: App, turn: Turn) -> None:
    """Mark the cache stale; count a message in a recommended channel as engagement."""
    e = turn.event
    if e.kind in (EventKind.COMMAND, EventKind.BUTTON, EventKind.SERVICE):
        return
    svc = service(app)
    svc.mark_dirty(turn.group.pk)
    if e.kind is EventKind.MESSAGE and e.channel_id and e.member_id:
        pending = await svc.pending(turn.group.pk)
        if (e.member_id, e.channel_id) in pending:
            await app.services["recommendation_log"].engaged(turn.group.pk, e.member_id, e.channel_id, e.time.timestamp())
            pending.discard((e.member_id, e.channel_id))


def install(app: App) -> None:
    """Register the score cache, the pipeline step, the boards and the commands."""
    from bot import scoring_commands

    svc = ScoreService(app)
    app.services["scoring"] = svc
    app.services["recommendation_log"] = RecommendationLog(lambda: app.store.engine)
    app.pipeline.add_step("scoring", install_step)
    app.on_start.append(svc.warm)
    app.on_stop.append(svc.stop)
    add_board(app, Board("activity", _board_activity, help_key="top.board.activity", render_merged=_merged_activity))
    add_board(app, Board("influence", _board_influence, help_key="top.board.influence", render_merged=_merged_influence))
    r = app.router
    r.command("top", usage="/top [activity|influence] [7d|30d|all] [here|community|telegram|discord]", help_key="cmd.help.top")(cmd_top)
    r.command("rank", usage="/rank [@member] [7d|30d|all]", help_key="cmd.help.rank")(cmd_rank)
    r.command("profile", usage="/profile [@member]", help_key="cmd.help.profile")(cmd_profile)
    scoring_commands.install(app)


async def demo(app: App, group, out, out_dir=None) -> None:
    """Show the sample community's leaderboards and stage; write its HTML report and
    charts into `out_dir`/report (the demo's folder)."""
    from bot.scoring_demo import demo as _demo

    await _demo(app, group, out, out_dir)


