"""Prometheus metrics of one app (its own registry, so tests and several apps in one
process never share counters).

Every counter a feature moves is declared here, so `/metrics` documents the whole bot:
events ingested by platform and kind, moderation verdicts by check, actions taken,
alerts sent and decided, points awarded, scheduler runs and misses, errors by step, and
latency histograms for the pipeline and for each platform call.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

_LATENCY = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The app's counters and histograms."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.events = Counter("communitybot_events_ingested_total", "Events stored, by platform and kind",
                              ["platform", "kind"], registry=r)
        self.duplicates = Counter("communitybot_events_duplicate_total", "Events received again and not re-processed",
                                  ["platform"], registry=r)
        #: (check, flagged) → verdicts: moderation makes ten a message, and a child counter's
        #: lock and call per verdict were 2 % of a loaded worker; shown as a counter family.
        self.verdicts: dict[tuple[str, bool], int] = {}
        r.register(_Verdicts(self.verdicts))
        self.actions = Counter("communitybot_actions_total", "Actions carried out on platforms",
                               ["platform", "kind", "ok"], registry=r)
        self.alerts_sent = Counter("communitybot_alerts_sent_total", "Alerts sent to moderators", ["platform"], registry=r)
        self.alerts_decided = Counter("communitybot_alerts_decided_total", "Alerts decided by moderators",
                                      ["decision"], registry=r)
        self.points = Counter("communitybot_points_awarded_total", "Points awarded (negative for deductions)",
                              ["reason"], registry=r)
        self.scheduler_runs = Counter("communitybot_scheduler_runs_total", "Scheduled jobs run", ["job"], registry=r)
        self.scheduler_misses = Counter("communitybot_scheduler_misses_total", "Scheduled runs skipped (missed past grace)",
                                        ["job"], registry=r)
        self.errors = Counter("communitybot_errors_total", "Errors caught by a step's error boundary", ["step"], registry=r)
        self.replies = Counter("communitybot_replies_sent_total", "Replies sent", ["platform", "ok"], registry=r)
        self.pipeline_latency = Histogram("communitybot_pipeline_seconds", "Time to handle one event end to end",
                                          buckets=_LATENCY, registry=r)
        self.platform_latency = Histogram("communitybot_platform_call_seconds", "Time of one platform call",
                                          ["platform", "call"], buckets=_LATENCY, registry=r)
        self.up = Gauge("communitybot_adapter_up", "1 when the adapter is connected", ["platform"], registry=r)
        self._children: dict[tuple, object] = {}

    def count_verdicts(self, verdicts) -> None:
        """Count a screening's verdicts (`communitybot_moderation_verdicts_total`)."""
        counts = self.verdicts
        for v in verdicts:
            k = (v.check, v.flagged)
            counts[k] = counts.get(k, 0) + 1

    def labels(self, metric, *values: str):
        """`metric.labels(*values)`, kept: prometheus_client looks a child up under a
        lock on every call, and the pipeline asks ~10 times per message."""
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    @contextmanager
    def platform_call(self, platform: str, call: str):
        """Time a platform call (send, act, ...)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.labels(self.platform_latency, platform, call).observe(time.perf_counter() - t0)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (tests and `/readyz` detail); 0 if never moved."""
        v = self.registry.get_sample_value(name, labels or None)
        return float(v or 0.0)


class _Verdicts:
    """`communitybot_moderation_verdicts_total{check, flagged}`, read from the counts at
    each scrape."""

    def __init__(self, counts: dict[tuple[str, bool], int]) -> None:
        self.counts = counts

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily("communitybot_moderation_verdicts", "Moderation check verdicts", labels=["check", "flagged"])

    def describe(self):
        """The family's name, without reading the counts."""
        return [self._family()]

    def collect(self):
        """The counts as one counter family."""
        fam = self._family()
        for (check, flagged), n in sorted(self.counts.items()):
            fam.add_metric([check, "true" if flagged else "false"], n)
        yield fam
