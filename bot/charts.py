"""PNG charts with matplotlib (Agg): daily activity, cohort retention, top members,
interest tags.

Chinese names need a CJK font (Debian: `apt-get install fonts-noto-cjk`). The module
looks for one once; without it, any label with characters no installed font can draw
falls back to a given alternative (the member's id), and chart captions switch to
English, so a chart never shows boxes.
"""

from __future__ import annotations

import io
import unicodedata
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from scoring.frame import EventFrame  # noqa: E402
from scoring.health import cohort_retention, daily_series  # noqa: E402

CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN", "SimHei",
    "Microsoft YaHei", "PingFang SC",
)
LABELS = {
    "en": {
        "daily": "Daily messages and active members (last {days} days)",
        "messages": "messages", "active": "active members", "cohort": "Weekly cohort retention",
        "cohort_x": "weeks after joining", "cohort_y": "cohort (week of first visit)",
        "top": "Top members by {board}", "tags": "Interest tags (share of tagged messages)",
    },
    "zh-CN": {
        "daily": "每日消息数与活跃成员（近 {days} 天）",
        "messages": "消息数", "active": "活跃成员", "cohort": "每周新成员留存",
        "cohort_x": "加入后第几周", "cohort_y": "首次出现的周",
        "top": "成员排行：{board}", "tags": "兴趣标签（占带标签消息的比例）",
    },
}


@lru_cache(maxsize=1)
def fonts() -> tuple[list[str], frozenset[int]]:
    """(font families to use, code points they can draw), found once per process."""
    names = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    chain = [f for f in CJK_FAMILIES if f in names][:1] + ["DejaVu Sans"]
    covered: set[int] = set()
    for fam in chain:
        path = names.get(fam) or font_manager.findfont(fam)
        try:
            from matplotlib.ft2font import FT2Font

            covered.update(FT2Font(path).get_charmap())
        except Exception:  # an unreadable font file: draw only what the others cover
            continue
    return chain, frozenset(covered)


def has_cjk_font() -> bool:
    """Whether a font with Chinese glyphs is installed."""
    return len(fonts()[0]) > 1


def label(text: str, fallback: str) -> str:
    """`text` if every letter in it can be drawn, else `fallback`. Symbols the fonts
    lack (emoji) are dropped rather than drawn as boxes."""
    _, covered = fonts()
    keep = []
    for ch in text:
        if ord(ch) in covered or ch.isspace():
            keep.append(ch)
        elif unicodedata.category(ch).startswith(("L", "N")):
            return label(fallback, "?") if fallback != text else "?"
    out = "".join(keep).strip()
    return out or (label(fallback, "?") if fallback != text else "?")


def _lang(lang: str) -> dict[str, str]:
    if lang == "zh-CN" and has_cjk_font():
        return LABELS["zh-CN"]
    return LABELS["en"]


def _figure(w: float, h: float) -> Figure:
    fam, _ = fonts()
    plt.rcParams["font.sans-serif"] = fam
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=(w, h), dpi=110)
    fig.set_layout_engine("constrained")
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def daily_chart(frame: EventFrame, now: float, title: str = "", lang: str = "en", days: int = 30) -> bytes:
    """Bars of messages per day with a line of active members per day."""
    L = _lang(lang)
    starts, msgs, active = daily_series(frame, now, days)
    dates = [np.datetime64(int(s), "s").astype("datetime64[D]") for s in starts]
    fig = _figure(8, 3.6)
    ax = fig.add_subplot()
    ax.bar(dates, msgs, color="#7aa6d8", label=L["messages"])
    ax.set_ylabel(L["messages"])
    ax2 = ax.twinx()
    ax2.plot(dates, active, color="#d9622b", marker="o", ms=3, label=L["active"])
    ax2.set_ylabel(L["active"])
    ax2.set_ylim(0, max(1, int(active.max()) + 1) * 1.15)
    ax.set_ylim(0, max(1, int(msgs.max())) * 1.15)
    head = L["daily"].format(days=days)
    t = label(title, "") if title else ""
    ax.set_title(f"{t} · {head}" if t and t != "?" else head)
    fig.autofmt_xdate()
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    return _png(fig)


def cohort_chart(frame: EventFrame, now: float, lang: str = "en", weeks: int = 8) -> bytes:
    """Heatmap of weekly cohorts: share still active k weeks after their first week."""
    L = _lang(lang)
    starts, sizes, R = cohort_retention(frame, now, weeks)
    fig = _figure(7, 4.2)
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(R), cmap="YlGnBu", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(R):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7, color="white" if v > 0.6 else "black")
    ylabels = [f"{np.datetime64(int(s), 's').astype('datetime64[D]')} (n={int(n)})" for s, n in zip(starts, sizes, strict=True)]
    ax.set_yticks(range(weeks), ylabels, fontsize=7)
    ax.set_xticks(range(weeks), [str(k) for k in range(weeks)])
    ax.set_xlabel(L["cohort_x"])
    ax.set_ylabel(L["cohort_y"])
    ax.set_title(L["cohort"])
    fig.colorbar(im, ax=ax, format=matplotlib.ticker.PercentFormatter(1.0))
    return _png(fig)


def bar_chart(labels: list[str], values: list[float], title: str, color: str = "#4c8c6a", percent: bool = False) -> bytes:
    """A horizontal bar chart, largest on top (labels already made drawable)."""
    n = len(labels)
    fig = _figure(7, max(2.2, 0.38 * n + 1.2))
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    ax.barh(y, values, color=color)
    ax.set_yticks(y, labels, fontsize=9)
    top = max(values) if values else 1
    for yi, v in zip(y, values, strict=True):
        ax.text(v + top * 0.01, yi, f"{v:.0%}" if percent else f"{v:.1f}", va="center", fontsize=8)
    ax.set_xlim(0, top * 1.15 if top > 0 else 1)
    if percent:
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(title)
    return _png(fig)


def top_members_chart(names: list[tuple[str, str]], values: list[float], board: str, lang: str = "en") -> bytes:
    """Top members by a board; `names` are (display name, member id) pairs. A name no
    installed font can draw is shown as "id <member id>"."""
    L = _lang(lang)
    return bar_chart([label(n, f"id {mid}") for n, mid in names], values, L["top"].format(board=board))


def interest_chart(tags: list[str], shares: list[float], lang: str = "en") -> bytes:
    """Share of tagged messages per interest tag."""
    L = _lang(lang)
    return bar_chart([label(t, f"tag {i + 1}") for i, t in enumerate(tags)], shares, L["tags"], color="#8a6bbf", percent=True)
