"""Prometheus metrics, served at ``/metrics`` when ``CUNZHI_METRICS_TOKEN`` is set (else that path is 404).

With several worker processes (``cunzhi serve --workers N``) each process writes its samples to files under
``PROMETHEUS_MULTIPROC_DIR`` (``cunzhi serve`` sets it) and a scrape of any worker adds them all up.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import event
from sqlalchemy.pool import Pool

REQUESTS = Counter("cunzhi_http_requests_total", "HTTP requests answered, by method, route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("cunzhi_http_request_duration_seconds", "Time to answer a request, by method and route template",
                    ["method", "route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PUSH_RESULTS = Counter("cunzhi_sync_push_results_total", "Mutations answered by /sync/push, by result status",
                       ["status"])
PUSHES = Counter("cunzhi_sync_pushes_total", "Push requests applied")
CONFLICTS_OPENED = Counter("cunzhi_sync_conflicts_opened_total", "Conflicts opened by pushed mutations")
PULL_PAGES = Counter("cunzhi_sync_pull_pages_total", "Pages of the change feed served by /sync/pull")
POOL_IN_USE = Gauge("cunzhi_db_pool_connections_in_use", "Database connections checked out of the pool",
                    multiprocess_mode="livesum")
POOL_CHECKOUTS = Counter("cunzhi_db_pool_checkouts_total", "Connections taken from the database pool")


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    if route == "/api/v1/sync/pull" and status == 200:
        PULL_PAGES.inc()


def record_push(results: Iterable) -> None:
    """Count one push's answers (the push route calls this once, after its transaction committed)."""
    PUSHES.inc()
    for r in results:
        PUSH_RESULTS.labels(r.status).inc()
        if r.status == "conflict" and getattr(r, "conflict_id", None):
            CONFLICTS_OPENED.inc()


@event.listens_for(Pool, "checkout")
def _checkout(*_args) -> None:
    POOL_IN_USE.inc()
    POOL_CHECKOUTS.inc()


@event.listens_for(Pool, "checkin")
def _checkin(*_args) -> None:
    POOL_IN_USE.dec()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> tuple[bytes, str]:
    """The exposition text: this process's registry, or all workers' files in multiprocess mode."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def token_ok(sent: str | None, expected: str) -> bool:
    """``Authorization: Bearer <CUNZHI_METRICS_TOKEN>`` (constant-time comparison)."""
    if not sent or not sent.startswith("Bearer "):
        return False
    return hmac.compare_digest(sent.removeprefix("Bearer ").strip().encode(), expected.encode())


def mark_process_dead() -> None:
    """A worker going away: its live gauges stop counting (multiprocess mode)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())
