"""The service's Prometheus metrics (text format from `prometheus_client`).

One registry per service instance (not the global one), so tests and several services
in one process never mix their counts.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "serve_requests", "HTTP requests by route and status", ["route", "status"], registry=r
        )
        self.renewals = Counter(
            "serve_renewals", "Credential renewals by path and outcome", ["path", "outcome"], registry=r
        )
        self.launches = Counter("serve_browser_launches", "Browsers launched", ["purpose"], registry=r)
        self.harvest_seconds = Histogram(
            "serve_harvest_seconds",
            "Duration of browser work (harvests and FlareSolverr solves)",
            ["kind"],
            buckets=(0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120, 180),
            registry=r,
        )
        self.queue_depth = Gauge("serve_queue_depth", "Requests waiting for a browser slot", registry=r)
        self.active_browsers = Gauge("serve_active_browsers", "Browsers running now", registry=r)
        self.sessions = Gauge("serve_flaresolverr_sessions", "Open FlareSolverr sessions", registry=r)
        self.errors = Counter("serve_errors", "Failed requests by error type", ["type"], registry=r)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


__all__ = ["Metrics"]
