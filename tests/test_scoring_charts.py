"""Charts: valid PNGs, readable labels, and a clean fallback without a CJK font."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import charts
from scoring.frame import frame_from_events
from storage.events import Event, EventKind

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_labels_fall_back_instead_of_boxes():
    if charts.has_cjk_font():
        assert charts.label("李雷", "id5") == "李雷"
    else:
        assert charts.label("李雷", "id5") == "id5"
    assert charts.label("alice 🚀", "id1") == "alice"  # emoji dropped, name kept
    assert charts.label("Ольга", "id2") == "Ольга"  # DejaVu has Cyrillic
    assert charts.label("🚀", "id3") == "id3"


def test_chinese_captions_only_with_a_font_that_has_them():
    labels = charts._lang("zh-CN")
    assert labels is (charts.LABELS["zh-CN"] if charts.has_cjk_font() else charts.LABELS["en"])


def test_charts_are_pngs_of_real_size():
    events = [
        Event(platform="t", group_id="g", kind=EventKind.MESSAGE, time=T0 + timedelta(hours=5 * i),
              member_id=f"m{i % 7}", member_name=["李雷", "bob", "Ольга", "dana", "eve", "fay", "gus"][i % 7],
              message_id=str(i), text="python?" if i % 3 else "数据分析")
        for i in range(200)
    ]
    f = frame_from_events(events)
    now = f.ts.max() + 60
    pngs = [
        charts.daily_chart(f, now, "课程群", "zh-CN"),
        charts.cohort_chart(f, now),
        charts.top_members_chart([("李雷", "m0"), ("bob", "m1")], [12.5, 3.0], "activity"),
        charts.interest_chart(["python", "数据"], [0.7, 0.3]),
    ]
    for png in pngs:
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 8000
