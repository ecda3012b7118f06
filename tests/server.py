"""The production build of Visio on a free port, for browser and HTTP tests (a pytest plugin)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not start in {seconds}s:\n{log.read_text()[-4000:]}")


@dataclass(frozen=True)
class AppServer:
    """A running Visio: where to reach it, and its database and file store (for test set-up)."""

    url: str
    db_url: str
    storage_dir: Path


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Migrate a fresh SQLite database, load the demo data, and serve the prod build."""
    work = tmp_path_factory.mktemp("app")
    port = _free_port()
    env = {
        **os.environ,
        "REFLEX_DB_URL": f"sqlite:///{work / 'visio.db'}",
        "VISIO_STORAGE_DIR": str(work / "files"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [bin_dir / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [sys.executable, "-m", "visio.demo"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    log = work / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                bin_dir / "reflex",
                "run",
                "--env",
                "prod",
                "--single-port",
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
        yield AppServer(url=url, db_url=env["REFLEX_DB_URL"], storage_dir=work / "files")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work / "files", ignore_errors=True)


@pytest.fixture(scope="session")
def app_url(app_server: AppServer) -> str:
    return app_server.url


@pytest.fixture
def app_db(app_server: AppServer) -> Iterator[Session]:
    """A session on the running app's own database, to set up data through the services."""
    from visio.db import make_engine

    engine = make_engine(app_server.db_url)
    with Session(engine, expire_on_commit=False) as db:
        yield db
    engine.dispose()
