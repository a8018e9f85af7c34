"""The service's own measurements (Prometheus); :mod:`lmrec.service.middleware` takes them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from lmrec.service.engine import Engine

__all__ = ["ONLINE_WINDOW_S", "OnlineMetrics", "Telemetry"]

#: the window of the online-metric series: lists served in the last 5 minutes (each scrape
#: reads and unseals them, so the window bounds its cost), with the feedback tied to them so far
ONLINE_WINDOW_S = 300.0


@dataclass
class Telemetry:
    """Request counts by route and status, latency by route, events stored."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    online: CollectorRegistry | None = None

    def __post_init__(self) -> None:
        self.requests = Counter(
            "lmrec_requests_total", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "lmrec_request_seconds", "Request latency", ["route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
        )  # fmt: skip
        self.ingested = Counter("lmrec_events_total", "Events stored", registry=self.registry)
        self.unavailable = Counter(
            "lmrec_store_unavailable_total", "Requests refused with 503: the store could not "
            "answer (full disk, held lock, lost connection)", registry=self.registry,
        )  # fmt: skip
        self.limited = Counter(
            "lmrec_rate_limited_total", "Requests refused with 429", registry=self.registry
        )

    def watch(self, engine: Engine) -> None:
        """Serve the online-metric series computed from ``engine``'s store (in a registry of
        their own: reading the service's counters never reads the store)."""
        self.online = CollectorRegistry()
        self.online.register(OnlineMetrics(engine))

    def exposition(self) -> bytes:
        """Every series in Prometheus' text format."""
        out = generate_latest(self.registry)
        if self.online is not None:
            out += generate_latest(self.online)
        return out


class OnlineMetrics(Collector):
    """Gauges of what lists served in the last :data:`ONLINE_WINDOW_S` did, per model version
    and variant, from the store (so the same in every worker); computed at most every
    ``every_s`` seconds."""

    def __init__(self, engine: Engine, every_s: float = 15.0, k: int = 10) -> None:
        self.engine = engine
        self.every_s = every_s
        self.k = k
        self._cache: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def _metrics(self) -> dict[str, Any] | None:
        from lmrec.service.store import StoreUnavailable

        with self._lock:
            now = time.time()
            if self._cache is not None and now - self._cache[0] < self.every_s:
                return self._cache[1]
            try:
                data = self.engine.online_metrics(now - ONLINE_WINDOW_S, now + 1.0, self.k)
            except StoreUnavailable:
                return None
            self._cache = (now, data)
            return data

    def collect(self) -> Iterator[GaugeMetricFamily]:
        data = self._metrics()
        if data is None:
            return
        labels = ["version", "variant"]
        families = {
            "lists": GaugeMetricFamily(
                "lmrec_online_lists", "Lists served in the last 5 minutes", labels=labels),
            "impressions": GaugeMetricFamily(
                "lmrec_online_impressions", f"Items shown in the top {self.k} of those lists",
                labels=labels),
            "clicks": GaugeMetricFamily(
                "lmrec_online_clicks", "Attributed clicks, carts and purchases on them",
                labels=labels),
            "ctr": GaugeMetricFamily(
                "lmrec_online_ctr", f"CTR@{self.k} of lists served in the last 5 minutes",
                labels=labels),
            "coverage": GaugeMetricFamily(
                "lmrec_online_coverage", "Share of the catalog shown in the last 5 minutes",
                labels=labels),
        }  # fmt: skip
        conversion = GaugeMetricFamily(
            "lmrec_online_conversion", "Share of lists served in the last 5 minutes that led to a "
            "cart or a purchase", labels=[*labels, "type"],
        )  # fmt: skip
        for g in data["groups"]:
            at = [g["version"], g["variant"] or ""]
            values = {**g, "ctr": g["ctr"]["mean"]}
            for name, family in families.items():
                if values[name] is not None:
                    family.add_metric(at, float(values[name]))
            for kind, value in g["conversion"].items():
                if value is not None:
                    conversion.add_metric([*at, kind], float(value))
        yield from families.values()
        yield conversion
        log = self.engine.log
        if log is not None:
            dropped = GaugeMetricFamily(
                "lmrec_impressions_dropped", "Served lists this worker could not record"
            )
            dropped.add_metric([], float(log.dropped))
            yield dropped
