"""The service's own measurements (Prometheus); :mod:`lmrec.service.middleware` takes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Telemetry"]


@dataclass
class Telemetry:
    """Request counts by route and status, latency by route, events stored."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

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
