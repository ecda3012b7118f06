"""Running it for real, over HTTP: /health, /ready (and 503 when the database or Redis stops
answering), /metrics (what it counts, who may read it) and the request log.

Most tests use the served app (`app_server`: one worker on SQLite, or with
VISIO_TEST_BACKEND=scale two workers on PostgreSQL and Redis). One more server, the API alone,
reaches its database and Redis through TCP proxies that the tests cut and restore; it also has
a metrics token and JSON logs.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from tests.api.conftest import assert_error, serve_api
from tests.server import BACKEND, PG_ADMIN_URL, REDIS_URL, SCALE_WORKERS, AppServer

TOKEN = "metrics-" + uuid.uuid4().hex


def sample(body: str, name: str, **labels: str) -> float:
    """One sample of a scrape (0 when absent: a counter nobody has moved yet)."""
    for family in text_string_to_metric_families(body):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return 0.0


def scrape(http: httpx.Client) -> str:
    answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


def wait_for_line(log: Path, needle: str, seconds: float = 10) -> str:
    """The server's log line that contains `needle` (written once the answer is sent)."""
    deadline = time.monotonic() + seconds
    while True:
        lines = [line for line in log.read_text().splitlines() if needle in line]
        if lines:
            return lines[-1]
        assert time.monotonic() < deadline, f"no log line with {needle!r}"
        time.sleep(0.1)


# --- the served app ------------------------------------------------------------------------


def test_health_answers_without_the_database_and_ready_checks_it(http) -> None:  # type: ignore[no-untyped-def]
    health = http.get("/health")
    ready = http.get("/ready")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    expected = {"database": "ok", **({"redis": "ok"} if BACKEND == "scale" else {})}
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "checks": expected})
    for answer in (health, ready, http.get("/metrics")):  # the usual headers, no page policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        policy = answer.headers["content-security-policy"]
        assert policy == "default-src 'none'; frame-ancestors 'none'"


def test_metrics_count_an_enrollment_and_its_refund(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher, student = make.teacher(), make.student(funds_cents=5000)
    session = make.session(teacher, is_paid=True, price_cents=1500)
    before = scrape(http)

    enrolled = http.post(f"/api/sessions/{session.id}/enroll", headers=student.headers)
    assert enrolled.status_code == 201, enrolled.text
    middle = scrape(http)
    left = http.delete(f"/api/sessions/{session.id}/enroll", headers=student.headers)
    assert left.status_code == 200, left.text
    after = scrape(http)

    def moved(name: str, first: str, then: str, **labels: str) -> float:
        return sample(then, name, **labels) - sample(first, name, **labels)

    assert moved("visio_enrollments", before, middle, status="active") == 1
    assert moved("visio_paid_enrollments_total", before, middle) == 1
    assert moved("visio_paid_cents_total", before, middle) == 1500
    assert moved("visio_refunds_total", middle, after) == 1
    assert moved("visio_refunded_cents_total", middle, after) == 1500
    assert moved("visio_enrollments", middle, after, status="active") == -1
    assert sample(after, "visio_figures_up") == 1
    for task in ("notices", "escrow_release", "minimum_decisions"):
        assert sample(after, "visio_background_lag_seconds", task=task) >= 0
    assert sample(after, "visio_outbox_pending") >= 0


def test_requests_are_counted_by_route_template_across_workers(http, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    session = make.session(teacher)
    route = {"method": "GET", "route": "/api/sessions/{session_id}", "status": "200"}
    before = scrape(http)

    for _ in range(6):  # with two workers, both answer some of them
        with httpx.Client(base_url=str(http.base_url)) as fresh:  # a new connection each
            assert fresh.get(f"/api/sessions/{session.id}", headers=teacher.headers).is_success
    refused = http.post(
        "/api/auth/login", json={"email": teacher.user.email, "password": "not-the-password"}
    )
    assert refused.status_code == 401
    assert http.get("/login/").status_code == 200  # a page of the web app
    assert http.get(f"/api/no/such/{uuid.uuid4().hex}").status_code == 404
    after = scrape(http)

    assert (
        sample(after, "visio_http_requests_total", **route)
        - sample(before, "visio_http_requests_total", **route)
        == 6
    )
    latency = {"method": "GET", "route": "/api/sessions/{session_id}"}
    assert sample(after, "visio_http_request_duration_seconds_count", **latency) >= 6
    assert (
        sample(after, "visio_failed_logins_total") - sample(before, "visio_failed_logins_total")
        == 1
    )
    assert f'/api/sessions/{session.id}"' not in after  # never a raw path as a label
    assert 'route="/login' not in after and "/api/no/such" not in after
    pages = {"method": "GET", "route": "<pages>", "status": "200"}
    assert sample(after, "visio_http_requests_total", **pages) > sample(
        before, "visio_http_requests_total", **pages
    )
    unknown = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert sample(after, "visio_http_requests_total", **unknown) > sample(
        before, "visio_http_requests_total", **unknown
    )
    assert sample(after, "visio_http_requests_total", method="GET", route="/metrics") >= 1


def test_each_request_gets_an_id_and_one_log_line_without_its_query(  # type: ignore[no-untyped-def]
    http, app_server: AppServer
) -> None:
    rid = f"test-{uuid.uuid4().hex}"
    answer = http.get("/api/health", headers={"X-Request-ID": rid})
    secret = uuid.uuid4().hex
    page_rid = f"test-{uuid.uuid4().hex}"
    page = http.get(f"/reset-password?token={secret}", headers={"X-Request-ID": page_rid})
    made_up = http.get("/api/health", headers={"X-Request-ID": "not an id\t<script>"})

    assert answer.headers["x-request-id"] == rid
    assert page.headers["x-request-id"] == page_rid
    generated = made_up.headers["x-request-id"]
    assert len(generated) == 32 and generated != "not an id\t<script>"
    line = wait_for_line(app_server.log, f"request_id={rid}")
    assert "INFO visio.requests: GET /api/health 200 " in line
    page_line = wait_for_line(app_server.log, f"request_id={page_rid}")
    assert "GET /reset-password " in page_line
    wait_for_line(app_server.log, f"request_id={generated}")
    assert secret not in app_server.log.read_text()  # query strings (tokens) never logged


def _outside_address() -> str | None:
    """An address of this machine that is not loopback, to call the app as another host does."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # no packet is sent: it picks the route's source
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_metrics_are_refused_to_other_hosts_and_to_proxied_requests(  # type: ignore[no-untyped-def]
    http, app_server: AppServer
) -> None:
    forwarded = http.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert_error(forwarded, 403, "metrics_forbidden")

    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no address but loopback to call the app from")
    outside = httpx.get(f"http://{address}:{app_server.port}/metrics", timeout=30)
    assert_error(outside, 403, "metrics_forbidden")
    assert "visio_" not in outside.text
    assert httpx.get(f"http://{address}:{app_server.port}/health", timeout=30).status_code == 200


# --- the API behind proxies that the tests cut ----------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server, until told to `refuse` (accept and close at once)
    or to `hang` (accept and never answer); cutting closes the connections already open."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.mode = "forward"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.mode == "refuse":
                client.close()
                continue
            with self.lock:
                self.open.append(client)
            if self.mode == "hang":
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode != "forward":
            with self.lock:
                for conn in self.open:
                    conn.close()
                self.open.clear()

    def close(self) -> None:
        self.listener.close()
        self.set("refuse")


def _through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    return urlunsplit(parts._replace(netloc=netloc))


def _reachable(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 (no PostgreSQL here)
        return False


@dataclass
class OpsServer:
    url: str
    log: Path
    database: TcpProxy | None  # None: an SQLite file, which no proxy stands in front of
    redis: TcpProxy | None


@pytest.fixture(scope="module")
def ops_server(
    app_server: AppServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpsServer]:
    work = tmp_path_factory.mktemp("ops")
    proxies: list[TcpProxy] = []
    env = {
        "VISIO_METRICS_TOKEN": TOKEN,
        "VISIO_LOG_FORMAT": "json",
        "VISIO_READY_TIMEOUT_SECONDS": "1",
        "VISIO_METRICS_DIR": str(work / "metrics"),
        "REFLEX_REDIS_URL": "",
    }
    if BACKEND == "scale":
        env["GRANIAN_WORKERS"] = SCALE_WORKERS
    # The app's own PostgreSQL database at scale; else PostgreSQL's if there is one here.
    db_url = app_server.db_url if BACKEND == "scale" else PG_ADMIN_URL
    database = None
    if db_url.startswith("postgresql") and _reachable(db_url):
        parts = urlsplit(db_url)
        database = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        proxies.append(database)
        env["REFLEX_DB_URL"] = _through(db_url, database)
    else:
        env["REFLEX_DB_URL"] = app_server.db_url
    redis_proxy = None
    parts = urlsplit(REDIS_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=2).close()
        redis_proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
        proxies.append(redis_proxy)
        env["REFLEX_REDIS_URL"] = _through(REDIS_URL, redis_proxy)
    except OSError:
        pass
    try:
        with serve_api(env, work / "api.log") as url:
            yield OpsServer(url=url, log=work / "api.log", database=database, redis=redis_proxy)
    finally:
        for proxy in proxies:
            proxy.close()


def _ready(server: OpsServer) -> httpx.Response:
    started = time.monotonic()
    answer = httpx.get(server.url + "/ready", timeout=30)
    assert time.monotonic() - started < 4, "/ready must not hang on a dependency"
    return answer


def _until(server: OpsServer, status: int, times: int = 1) -> httpx.Response:
    """/ready until it answers `status` `times` in a row (each worker probes for itself, and one
    whose previous probe hung says "timeout" until that probe gives up: 2 s at most)."""
    deadline, seen = time.monotonic() + 15, 0
    while True:
        answer = _ready(server)
        seen = seen + 1 if answer.status_code == status else 0
        if seen == times or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


@pytest.mark.parametrize("dependency", ["database", "redis"])
def test_ready_is_503_while_a_dependency_is_cut_and_200_once_it_is_back(  # type: ignore[no-untyped-def]
    ops_server: OpsServer, dependency: str
) -> None:
    proxy = ops_server.database if dependency == "database" else ops_server.redis
    if proxy is None:
        pytest.skip(
            f"no {dependency} to cut here: the database cut needs PostgreSQL (an SQLite file "
            "cannot be taken from a running app without damaging it), the Redis cut a Redis"
        )
    assert _until(ops_server, 200, times=4).status_code == 200

    for mode, reason in (("refuse", "unavailable"), ("hang", "timeout")):
        proxy.set(mode)
        try:
            down = _until(ops_server, 503)
        finally:
            proxy.set("forward")
        assert down.status_code == 503, down.text
        body = down.json()
        assert body["status"] == "unavailable"
        assert body["checks"][dependency] == reason
        assert "Traceback" not in down.text and "postgres" not in down.text
        back = _until(ops_server, 200, times=4)
        assert (back.status_code, back.json()["checks"][dependency]) == (200, "ok")


def test_with_a_token_metrics_need_it(ops_server: OpsServer) -> None:
    url = ops_server.url + "/metrics"

    missing = httpx.get(url)
    wrong = httpx.get(url, headers={"Authorization": "Bearer nope", "Accept-Language": "fr"})
    right = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})

    assert_error(missing, 401, "metrics_token_required")
    assert missing.headers["www-authenticate"] == "Bearer"
    body = assert_error(wrong, 403, "metrics_forbidden")
    assert "métriques" in body["detail"]
    assert right.status_code == 200
    assert "visio_http_requests_total" in right.text
    assert TOKEN not in right.text


def test_json_logs_carry_the_request_fields(ops_server: OpsServer) -> None:
    rid = f"json-{uuid.uuid4().hex}"
    httpx.get(ops_server.url + "/api/sessions/123?token=hidden", headers={"X-Request-ID": rid})

    line = json.loads(wait_for_line(ops_server.log, rid))

    assert line["request_id"] == rid
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/sessions/123", 401)
    assert line["route"] == "/api/sessions/{session_id}"
    assert line["level"] == "INFO" and line["logger"] == "visio.requests"
    assert isinstance(line["duration_ms"], float)
    assert "hidden" not in ops_server.log.read_text()
