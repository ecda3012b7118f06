"""Prometheus metrics of the running app (no web framework here: the API serves them).

Several worker processes answer requests, so each keeps its counters in files of one shared
directory (prometheus_client's multiprocess mode) and a scrape, whichever worker takes it, adds
them all up. The directory is the server's: `VISIO_METRICS_DIR/<supervisor pid>-<its start>`,
made by the first worker that counts something; the directories of servers no longer running
are removed then, so a restart starts from zero (as Prometheus expects of a new process).

Business figures (enrollments, refunds, outbox...) are not counted here: they are read from the
database at scrape time (visio.services.operations), exact for the whole cluster.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from visio.settings import settings

if TYPE_CHECKING:
    from visio.services.operations import Figures

__all__ = ["CONTENT_TYPE_LATEST", "count_failed_login", "enable", "observe_request", "render"]

_lock = threading.Lock()
_enabled = False
_made: dict[str, Any] = {}  # this process's metrics, made on first use (in the worker)


def enable() -> None:
    """Count in this process (the app's workers); elsewhere (scripts, tests) counting is a no-op."""
    global _enabled
    _enabled = True


def _start_time(pid: int) -> str:
    """A process's start time (Linux /proc), so that a reused pid is not taken for its former
    owner; empty where unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(name: str) -> bool:
    pid, _, started = name.partition("-")
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _start_time(int(pid)) == started


def run_directory() -> Path:
    """This server's directory: shared by the workers of one supervisor process."""
    supervisor = os.getppid()
    return settings.metrics_dir / f"{supervisor}-{_start_time(supervisor)}"


def _setup() -> dict[str, Any]:
    with _lock:
        if _made:
            return _made
        directory = run_directory()
        directory.mkdir(parents=True, exist_ok=True)
        for other in settings.metrics_dir.iterdir():
            if other != directory and other.is_dir() and not _alive(other.name):
                shutil.rmtree(other, ignore_errors=True)  # a server that is gone
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        values.ValueClass = values.MultiProcessValue()
        _made.update(
            directory=directory,
            requests=Counter(
                "visio_http_requests",
                "HTTP requests answered, by route template (not the raw path) and status.",
                ["method", "route", "status"],
                registry=None,
            ),
            latency=Histogram(
                "visio_http_request_duration_seconds",
                "Time to answer an HTTP request, by route template.",
                ["method", "route"],
                registry=None,
            ),
            failed_logins=Counter(
                "visio_failed_logins",
                "Logins refused for a wrong email or password (throttled ones are not counted).",
                registry=None,
            ),
        )
        return _made


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request (cheap: two writes to a memory-mapped file)."""
    if not _enabled:
        return
    made = _made or _setup()
    made["requests"].labels(method, route, str(status)).inc()
    made["latency"].labels(method, route).observe(seconds)


def count_failed_login() -> None:
    if _enabled:
        (_made or _setup())["failed_logins"].inc()


class _FiguresCollector:
    """The database's figures as metrics (or `visio_figures_up 0` when it could not be read)."""

    def __init__(self, figures: Figures | None) -> None:
        self.figures = figures

    def collect(self):  # type: ignore[no-untyped-def]
        found = self.figures
        yield GaugeMetricFamily(
            "visio_figures_up",
            "1 when the business figures below could be read from the database at this scrape.",
            value=0 if found is None else 1,
        )
        if found is None:
            return
        seats = GaugeMetricFamily(
            "visio_enrollments", "Seats in sessions, by status.", labels=["status"]
        )
        for status, count in sorted(found.enrollments.items()):
            seats.add_metric([status], count)
        yield seats
        cents = f"in cents of {settings.currency}"
        for name, doc, value in (
            ("visio_paid_enrollments", "Paid seats ever bought.", found.paid_enrollments),
            ("visio_paid_cents", f"Money paid for seats, {cents}.", found.paid_cents),
            ("visio_refunds", "Paid seats refunded.", found.refunds),
            ("visio_refunded_cents", f"Money refunded, {cents}.", found.refunded_cents),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        payouts = GaugeMetricFamily(
            "visio_payouts", "Teachers' payout requests, by status.", labels=["status"]
        )
        payout_cents = GaugeMetricFamily(
            "visio_payout_cents",
            f"Money in payout requests, {cents}, by status.",
            labels=["status"],
        )
        for status in sorted(found.payouts):
            payouts.add_metric([status], found.payouts[status])
            payout_cents.add_metric([status], found.payout_cents[status])
        yield payouts
        yield payout_cents
        yield GaugeMetricFamily(
            "visio_payouts_oldest_requested_seconds",
            "How long the oldest payout request not yet paid or refused has waited.",
            value=found.oldest_payout_request_seconds,
        )
        yield GaugeMetricFamily(
            "visio_outbox_pending",
            "Notices not mailed yet (due or to retry).",
            value=found.outbox_pending,
        )
        yield GaugeMetricFamily(
            "visio_outbox_due", "Notices due to be mailed now.", value=found.outbox_due
        )
        yield GaugeMetricFamily(
            "visio_outbox_oldest_due_seconds",
            "How long the oldest due notice has waited to be mailed.",
            value=found.outbox_oldest_due_seconds,
        )
        lag = GaugeMetricFamily(
            "visio_background_lag_seconds",
            "How late each background job is: age of its oldest due piece of work (0: none).",
            labels=["task"],
        )
        for task, seconds in sorted(found.lag_seconds.items()):
            lag.add_metric([task], seconds)
        yield lag


def render(figures: Figures | None) -> bytes:
    """The text exposition of every worker's counters and the database's figures."""
    registry = CollectorRegistry()
    if _enabled:
        MultiProcessCollector(registry, path=str(_setup()["directory"]))
    registry.register(_FiguresCollector(figures))
    return generate_latest(registry)
