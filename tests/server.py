"""The production build of Visio on a free port, for browser and HTTP tests (a pytest plugin).

Two modes, chosen by VISIO_TEST_BACKEND:
- `embedded` (default): a SQLite file and Reflex's in-process state, one worker;
- `scale`: a throwaway PostgreSQL database, Reflex's Redis state manager and two workers, as in
  production at scale. It skips, with the reason, where PostgreSQL or Redis cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("VISIO_TEST_BACKEND", "embedded")
PG_ADMIN_URL = os.environ.get(
    "VISIO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("VISIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
SCALE_WORKERS = "2"
ALLOWED_ORIGIN = "https://lms.example.test"  # the one site the served app lets call its API


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


@dataclass
class AppServer:
    """A running Visio: where to reach it, its database and file store (for test set-up)."""

    url: str
    db_url: str
    storage_dir: Path
    mode: str
    env: dict[str, str]
    port: int
    log: Path
    mail_dir: Path | None = None  # where the embedded mail transport writes its .eml files
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [
                    bin_dir / "reflex",
                    "run",
                    "--env",
                    "prod",
                    "--single-port",
                    "--backend-port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until_up(self.url + "/ping", self.proc, self.log)
        _wait_until_up(self.url + "/", self.proc, self.log)

    def stop(self) -> None:
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        """Stop every worker and start again on the same port, database and state store."""
        self.stop()
        self.start()


def _scale_setup() -> tuple[str, str]:
    """A fresh PostgreSQL database and an empty Redis database, or a skip saying why not."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except Exception as error:  # noqa: BLE001 (any failure means: no Redis here)
        pytest.skip(f"scale-out tests need Redis at {REDIS_URL}: {error}")
    name = f"visio_app_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"scale-out tests need PostgreSQL at {PG_ADMIN_URL}: {error}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Migrate a fresh database, load the demo data, and serve the prod build."""
    work = tmp_path_factory.mktemp("app")
    database = None
    if BACKEND == "scale":
        db_url, database = _scale_setup()
        extra = {"REFLEX_REDIS_URL": REDIS_URL, "GRANIAN_WORKERS": SCALE_WORKERS}
    else:
        db_url, extra = f"sqlite:///{work / 'visio.db'}", {}
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REFLEX_REDIS_URL",)},
        **extra,
        "REFLEX_DB_URL": db_url,
        "VISIO_STORAGE_DIR": str(work / "files"),
        "VISIO_CORS_ORIGINS": ALLOWED_ORIGIN,
        "VISIO_MAIL_DIR": str(work / "mail"),
        "VISIO_OUTBOX_EVERY_SECONDS": "1",
        "VISIO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    subprocess.run(
        [bin_dir / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [sys.executable, "-m", "visio.demo"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    server = AppServer(
        url=f"http://127.0.0.1:{port}",
        db_url=db_url,
        storage_dir=work / "files",
        mode=BACKEND,
        env=env,
        port=port,
        log=work / "app.log",
        mail_dir=work / "mail",
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(work / "files", ignore_errors=True)
        if database is not None:
            _drop_database(database)


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
