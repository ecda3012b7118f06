"""The production build of Visio on a free loopback port, started and stopped by the benchmarks.

As tests/server.py does it: `reflex run --env prod --single-port`, with its own frontend build
folder (bench/.web) so that a test run elsewhere in the tree is not disturbed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import data
from bench.context import BENCH_DIR, Context
from bench.data import Dataset

ROOT = BENCH_DIR.parent
START_SECONDS = 300  # a first build installs the frontend's packages


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class App:
    url: str
    db_url: str
    workers: int
    redis_url: str | None
    log: Path
    pid: int

    @property
    def label(self) -> str:
        store = "PostgreSQL + Redis" if self.redis_url else "SQLite"
        return f"{store}, {self.workers} worker{'s' if self.workers > 1 else ''}"


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not start in {START_SECONDS}s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the app's own process group (it was started in a new session), then wait."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def running_app(
    *, db_url: str, workdir: Path, workers: int = 1, redis_url: str | None = None
) -> Iterator[App]:
    """Serve the prod build on `db_url` (already migrated and filled) until the block ends."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in ("REFLEX_REDIS_URL", "GRANIAN_WORKERS")}
    env.update(
        {
            "REFLEX_DB_URL": db_url,
            "GRANIAN_WORKERS": str(workers),
            "VISIO_STORAGE_DIR": str(workdir / "files"),
            "VISIO_RATE_LIMITS": "off",  # a load test: every client is one address here
            # The runs measure requests. The mails they cause are delivered by the background
            # sender, measured by the mail benchmark: held here, or one run's backlog of
            # thousands of mails would take the next run's CPU.
            "VISIO_OUTBOX_EVERY_SECONDS": "3600",
            "REFLEX_WEB_WORKDIR": str(BENCH_DIR / ".web"),
            "REFLEX_STATES_WORKDIR": str(BENCH_DIR / ".states"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "REFLEX_CHECK_LATEST_VERSION": "false",
            "REFLEX_TELEMETRY_ENABLED": "false",
        }
    )
    if redis_url:
        env["REFLEX_REDIS_URL"] = redis_url
    log = workdir / f"app-{port}.log"
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                str(bin_dir / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--backend-host",
                "127.0.0.1",
                "--backend-port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url + "/ping", proc, log)
        _wait_until_up(url + "/", proc, log)
        yield App(url, db_url, workers, redis_url, log, proc.pid)
    finally:
        _stop(proc)


def embedded_app(ctx: Context) -> tuple[App, Dataset]:
    """The embedded default (SQLite file, in-process state, 1 worker) on a filled database,
    started once per run and shared by the browser and API benchmarks."""

    def start() -> tuple[App, Dataset]:
        plan = ctx.plan
        ctx.log(f"generating the app's SQLite database ({plan.api_sessions:,} sessions) ...")
        url = data.new_sqlite(ctx.workdir / "app.db")
        found = data.populate(url, sessions=plan.api_sessions, students=plan.api_clients + 20)
        ctx.log("starting the prod build (SQLite, 1 worker) ...")
        app = ctx.stack.enter_context(running_app(db_url=url, workdir=ctx.workdir, workers=1))
        return app, found

    return ctx.shared("embedded-app", start)
