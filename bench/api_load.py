"""The JSON API under load: 50 concurrent clients on loopback, each with its own student token.

Three servers, each the prod build: the embedded default (SQLite, 1 worker), then PostgreSQL +
Redis with 1 and with 2 workers (the same database, Redis db 14 emptied before each). On each:
GET /ping (the floor: Reflex's own endpoint, no database), GET /api/sessions?scope=available and
POST /api/sessions/{id}/enroll (paid seats, every request a new student/session pair).

The load comes from wrk when it is installed (a C program: it leaves the two cores to the server),
else from a Python asyncio + httpx generator, which competes with the server for the CPU.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from sqlalchemy import update

from bench import data
from bench.context import Context
from bench.measure import Outcome, Row, percentile, profile_summary, top_frames
from bench.server import App, embedded_app, running_app
from visio.db import make_engine
from visio.models import Notice, NoticeStatus

REDIS_URL = os.environ.get("VISIO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
P95_MS = 100.0
SCALING = 1.5
AVAILABLE = "/api/sessions?scope=available"
SETTLE_SECONDS = 5


@dataclass(frozen=True)
class Load:
    """One bounded load run: latencies in ms, throughput, answers by status."""

    requests: int
    seconds: float
    p50: float
    p95: float
    statuses: dict[int, int]
    socket_errors: int
    server_errors: dict[str, int] = field(default_factory=dict)  # from the app's log
    cpu_seconds: float = 0.0  # the app's processes, over the run

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * 1000 / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def problems(self, ok: int) -> str:
        bad = {s: n for s, n in self.statuses.items() if s != ok}
        found = [f"{n:,} x {s}" for s, n in sorted(bad.items())]
        if self.socket_errors:
            found.append(f"{self.socket_errors} socket errors or timeouts")
        if not self.requests:
            found.append("no request completed")
        found += [f"server log: {n} x {what}" for what, n in self.server_errors.items()]
        return "; ".join(found)


# What the app's log says went wrong during a run, by the message that tells it.
LOG_SIGNS = {
    "QueuePool limit": "connection pool timeout",
    "database is locked": "database is locked",
    "lock timeout": "lock timeout",
    "Traceback (most recent call last)": "traceback",
}


def _log_errors(log: Path, offset: int) -> dict[str, int]:
    with log.open(errors="replace") as f:
        f.seek(offset)
        text = f.read()
    return {label: text.count(sign) for sign, label in LOG_SIGNS.items() if sign in text}


# --- wrk ------------------------------------------------------------------------------------

LUA = """
local tokens = {%(tokens)s}
local sessions = {%(sessions)s}
local mode = "%(mode)s"
local per_thread = %(per_thread)d
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

counter = 0
statuses = {}

-- Request n of a thread: its student k = n mod per_thread, on the (n div per_thread)-th session,
-- so each student/session pair is asked once (with fewer connections than students, each
-- connection takes the thread's students in turn).
function request()
  local k = counter %% per_thread
  local round = math.floor(counter / per_thread)
  counter = counter + 1
  if mode == "ping" then
    return wrk.format("GET", "/ping")
  end
  local headers = {["Authorization"] = "Bearer " .. tokens[tid * per_thread + k + 1]}
  if mode == "enroll" then
    local sid = sessions[(round %% #sessions) + 1]
    return wrk.format("POST", "/api/sessions/" .. sid .. "/enroll", headers, "")
  end
  return wrk.format("GET", "%(available)s", headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests %%d\\n", summary.requests))
  io.write(string.format("BENCH duration_us %%d\\n", summary.duration))
  io.write(string.format("BENCH socket_errors %%d\\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("BENCH p50_us %%d\\n", latency:percentile(50)))
  io.write(string.format("BENCH p95_us %%d\\n", latency:percentile(95)))
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      io.write(string.format("BENCH status %%d %%d\\n", status, n))
    end
  end
end
"""

WRK_THREADS = 2


def _wrk(
    app: App,
    mode: str,
    tokens: list[str],
    sessions: list[int],
    seconds: float,
    workdir: Path,
    connections: int,
) -> Load:
    threads = min(WRK_THREADS, connections)
    script = workdir / f"wrk-{mode}.lua"
    script.write_text(
        LUA
        % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "sessions": ", ".join(str(s) for s in sessions) or "0",
            "mode": mode,
            "per_thread": len(tokens) // threads,
            "available": AVAILABLE,
        }
    )
    found = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            app.url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    values: dict[str, int] = {}
    statuses: Counter[int] = Counter()
    for line in found.stdout.splitlines():
        if m := re.match(r"BENCH status (\d+) (\d+)", line):
            statuses[int(m[1])] += int(m[2])
        elif m := re.match(r"BENCH (\w+) (\d+)", line):
            values[m[1]] = int(m[2])
    return Load(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p50=values["p50_us"] / 1000,
        p95=values["p95_us"] / 1000,
        statuses=dict(statuses),
        socket_errors=values["socket_errors"],
    )


# --- Python fallback ------------------------------------------------------------------------


async def _python(
    app: App, mode: str, tokens: list[str], sessions: list[int], seconds: float, connections: int
) -> Load:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    counter = 0  # request n: student n mod len(tokens), on the (n div len(tokens))-th session
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=app.url, limits=limits, timeout=10) as client:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def one_client() -> None:
            nonlocal errors, counter
            while loop.time() < deadline:
                n, counter = counter, counter + 1
                headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
                if mode == "ping":
                    call = client.get("/ping")
                elif mode == "enroll":
                    session = sessions[(n // len(tokens)) % len(sessions)]
                    call = client.post(f"/api/sessions/{session}/enroll", headers=headers)
                else:
                    call = client.get(AVAILABLE, headers=headers)
                start = time.perf_counter()
                try:
                    response = await call
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[response.status_code] += 1

        began = time.perf_counter()
        await asyncio.gather(*[one_client() for _ in range(connections)])
        elapsed = time.perf_counter() - began
    return Load(
        len(latencies),
        elapsed,
        percentile(latencies, 50),
        percentile(latencies, 95),
        dict(statuses),
        errors,
    )


def load(
    ctx: Context,
    app: App,
    mode: str,
    tokens: list[str],
    sessions: list[int],
    seconds: float,
    connections: int | None = None,
) -> Load:
    """One run: `connections` clients at once (default: one per token), each student/session
    pair asked once; with the app's CPU time (all its processes) over the run."""
    connections = connections or len(tokens)
    offset = app.log.stat().st_size
    cpu_before = _cpu_seconds(app.pid)
    if shutil.which("wrk"):
        found = _wrk(app, mode, tokens, sessions, seconds, ctx.workdir, connections)
    else:
        found = asyncio.run(_python(app, mode, tokens, sessions, seconds, connections))
    cpu = _cpu_seconds(app.pid) - cpu_before
    time.sleep(1)  # let the app finish (and log) what was still in flight
    return replace(found, server_errors=_log_errors(app.log, offset), cpu_seconds=cpu)


def _cpu_seconds(root: int) -> float:
    """User + system CPU time of a process and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


# --- one server -----------------------------------------------------------------------------


def login_all(app: App, emails: list[str]) -> list[str]:
    """A bearer token per student, from POST /api/auth/login."""
    tokens = []
    with httpx.Client(base_url=app.url, timeout=30) as client:
        for email in emails:
            response = client.post(
                "/api/auth/login", json={"email": email, "password": data.PASSWORD}
            )
            response.raise_for_status()
            tokens.append(response.json()["token"])
    return tokens


def _alone(app: App, token: str, paths: tuple[str, ...], count: int = 100) -> list[float]:
    """The median latency of each path from one Python client alone (httpx: its own share of
    each figure is a millisecond or more on this host, see /ping). The paths take turns, so
    that a figure and its floor see the host alike."""
    samples: dict[str, list[float]] = {path: [] for path in paths}
    with httpx.Client(base_url=app.url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(count):
            for path in paths:
                start = time.perf_counter()
                client.get(path, headers=headers)
                samples[path].append((time.perf_counter() - start) * 1000)
    return [percentile(samples[path], 50) for path in paths]


ALONE_ROUNDS = 3  # GET and /ping take turns, a few seconds each


def _alone_wrk(ctx: Context, app: App, token: str) -> tuple[float, float]:
    """The median latency of GET available and of /ping from one wrk connection alone: the
    server's time per request, with a client whose own cost is a few microseconds. The median
    of the rounds' medians."""
    gets, pings = [], []
    for _ in range(ALONE_ROUNDS):
        gets.append(_wrk(app, "get", [token], [], 2, ctx.workdir, 1).p50)
        pings.append(_wrk(app, "ping", [token], [], 2, ctx.workdir, 1).p50)
    return percentile(gets, 50), percentile(pings, 50)


FEW_CLIENTS = (1, 8)  # the shape issue 15 compares with pretix: paid orders from 1 and 8 clients
ENROLL_PER_SECOND = {1: 150.0, 8: 300.0}  # on PostgreSQL + Redis with 2 workers
CPU_MS_PER_ENROLL = 3.0
ALONE_MS = 3.0  # GET /api/sessions?scope=available, median, no other client


@dataclass(frozen=True)
class ServerResult:
    label: str
    ping: Load
    get: Load
    enroll: Load
    get_alone_ms: float
    ping_alone_ms: float
    python_alone_ms: list[float]  # GET and /ping, from httpx
    db_url: str
    token: str
    few: dict[int, tuple[Load, Load]]  # clients -> (GET /ping, paid enrollments)


def measure(
    ctx: Context, app: App, found: data.Dataset, *, fresh_sessions: Callable[[], list[int]]
) -> ServerResult:
    plan = ctx.plan
    students = found.student_ids[: plan.api_clients]
    tokens = login_all(app, [found.emails[s] for s in students])
    ctx.log(f"  {app.label}: warming up ...")
    time.sleep(SETTLE_SECONDS)  # every worker up and idle
    load(ctx, app, "get", tokens, [], 2)
    python_alone = _alone(app, tokens[0], (AVAILABLE, "/ping"))
    get_alone, ping_alone = (
        _alone_wrk(ctx, app, tokens[0]) if shutil.which("wrk") else tuple(python_alone)
    )
    ping = load(ctx, app, "ping", tokens, [], plan.api_ping_seconds)
    get = load(ctx, app, "get", tokens, [], plan.api_seconds)
    enroll = load(ctx, app, "enroll", tokens, fresh_sessions(), plan.api_seconds)
    ctx.log(
        f"  {app.label}: ping {ping.rps:.0f}/s p95 {ping.p95:.1f} ms; GET {get.rps:.0f}/s "
        f"p95 {get.p95:.1f} ms; enroll {enroll.rps:.0f}/s p95 {enroll.p95:.1f} ms"
    )
    few = {}
    for clients in FEW_CLIENTS:
        seconds = max(2, plan.api_ping_seconds // 2)  # wrk takes whole seconds
        few_ping = load(ctx, app, "ping", tokens, [], seconds, connections=clients)
        seconds = max(2, plan.api_seconds // 2)
        paid = load(ctx, app, "enroll", tokens, fresh_sessions(), seconds, connections=clients)
        few[clients] = (few_ping, paid)
        ctx.log(
            f"  {app.label}, {clients} client(s): enroll {paid.rps:.0f}/s, "
            f"{paid.cpu_ms_per_request:.2f} ms CPU per request"
        )
    return ServerResult(
        app.label,
        ping,
        get,
        enroll,
        get_alone,
        ping_alone,
        python_alone,
        found.url,
        tokens[0],
        few,
    )


def _enroll_targets(url: str, teacher_id: int, count: int) -> Callable[[], list[int]]:
    def make() -> list[int]:
        engine = make_engine(url)
        try:
            return data.add_open_sessions(engine, count=count, teacher_id=teacher_id)
        finally:
            engine.dispose()

    return make


def _drop_mail_backlog(url: str) -> None:
    """Mark the mails earlier servers' runs caused as skipped: a new server's first outbox pass
    would otherwise deliver them all (thousands, minutes of CPU) during its own runs."""
    notices = Notice.__table__  # type: ignore[attr-defined]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(notices)
                .where(notices.c.status == NoticeStatus.PENDING.value)
                .values(status=NoticeStatus.SKIPPED.value)
            )
    finally:
        engine.dispose()


def _redis_problem() -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


def _flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    client.flushdb()
    client.close()


def _targets_needed(ctx: Context) -> int:
    # Sessions per enroll run: each holds one seat per client; 2,000 requests/s at most, say.
    return max(50, int(2_000 * ctx.plan.api_seconds / ctx.plan.api_clients))


# --- rows -----------------------------------------------------------------------------------


def _latency_row(result: ServerResult, what: str, run: Load, ok: int) -> Row:
    problems = run.problems(ok)
    return Row(
        f"API under load ({result.label})",
        f"{what}, 50 clients, p95",
        run.p95,
        result.ping.p95,
        "ms",
        floor_label=f"GET /ping, p95; {result.ping.rps:,.0f} req/s",
        target=f"p95 <= {P95_MS:g} ms",
        met=run.requests > 0 and run.p95 <= P95_MS and not problems,
        detail=f"p50 {run.p50:.1f}; {run.rps:,.0f} req/s"
        + (f"; not {ok}: {problems}" if problems else ""),
    )


def _few_rows(result: ServerResult) -> list[Row]:
    """Paid enrollments from 1 and 8 clients, and the app's CPU per request (targets on
    PostgreSQL + Redis with 2 workers, the shape measured against pretix)."""
    targeted = result.label == "PostgreSQL + Redis, 2 workers"
    rows = []
    for clients, (ping, paid) in result.few.items():
        problems = paid.problems(201)
        goal = ENROLL_PER_SECOND[clients]
        rows.append(
            Row(
                f"Paid enrollment over the API ({result.label})",
                f"{clients} client{'s' if clients > 1 else ''}: enrollments per second",
                paid.rps,
                ping.rps,
                "/s",
                floor_label=f"GET /ping, {clients} client{'s' if clients > 1 else ''}",
                target=f">= {goal:g}/s, 0 errors" if targeted else "",
                met=(paid.rps >= goal and not problems) if targeted else None,
                detail=f"p50 {paid.p50:.1f} ms; {paid.requests:,} seats"
                + (f"; not 201: {problems}" if problems else ""),
            )
        )
    ping, paid = result.few[max(result.few)]
    rows.append(
        Row(
            f"Paid enrollment over the API ({result.label})",
            f"server CPU per enrollment request ({max(result.few)} clients)",
            paid.cpu_ms_per_request,
            ping.cpu_ms_per_request,
            "ms",
            floor_label="GET /ping, the same clients",
            target=f"<= {CPU_MS_PER_ENROLL:g} ms" if targeted else "",
            met=(paid.cpu_ms_per_request <= CPU_MS_PER_ENROLL) if targeted else None,
            detail="every process of the app (workers, Reflex), not PostgreSQL or Redis",
        )
    )
    return rows


def _profile_get(ctx: Context, result: ServerResult) -> str:
    """pyinstrument over the GET route's work, in this process: the same functions it calls."""
    from visio.api import sessions as api_sessions
    from visio.db import open_db
    from visio.services import accounts

    engine = make_engine(result.db_url)

    def one() -> None:
        with open_db(engine) as db:
            user = accounts.authenticate(db=db, token=result.token)
            page = api_sessions.session_page(db, user, scope="available")
            page.model_dump_json()

    start = time.perf_counter()
    for _ in range(20):
        one()
    per_call = (time.perf_counter() - start) / 20 * 1000
    tree = profile_summary(one, repeat=30, html=ctx.profiles_dir / "api-get.html")
    engine.dispose()
    return (
        f"authenticate + list_sessions(scope=available) + JSON, called in-process: "
        f"{per_call:.1f} ms per request\n" + top_frames(tree)
    )


def run(ctx: Context) -> Outcome:
    out = Outcome()
    plan = ctx.plan
    tool = "wrk" if shutil.which("wrk") else "a Python asyncio + httpx generator"
    results: list[ServerResult] = []
    targets = _targets_needed(ctx)

    app, found = embedded_app(ctx)
    ctx.log(f"API load on {app.label} ...")
    teacher = found.teacher_ids[0]
    results.append(
        measure(ctx, app, found, fresh_sessions=_enroll_targets(found.url, teacher, targets))
    )

    problem = data.postgres_available() or _redis_problem()
    if problem:
        out.notes.append(f"API load in scale-out mode skipped: {problem}")
    else:
        with data.postgres_database() as url:
            ctx.log(f"generating the PostgreSQL database ({plan.api_sessions:,} sessions) ...")
            pg = data.populate(url, sessions=plan.api_sessions, students=plan.api_clients + 20)
            fresh = _enroll_targets(url, pg.teacher_ids[0], targets)
            for workers in (1, 2):
                _drop_mail_backlog(url)
                _flush_redis()
                ctx.log(f"starting the prod build (PostgreSQL + Redis, {workers} workers) ...")
                with running_app(
                    db_url=url, workdir=ctx.workdir, workers=workers, redis_url=REDIS_URL
                ) as scaled:
                    results.append(measure(ctx, scaled, pg, fresh_sessions=fresh))
            _flush_redis()
            _report(ctx, out, results, tool)
            return out
    _report(ctx, out, results, tool)
    return out


def _alone_row(result: ServerResult) -> Row:
    return Row(
        f"API alone ({result.label})",
        "GET /api/sessions?scope=available (a page of 20), one client, median",
        result.get_alone_ms,
        result.ping_alone_ms,
        "ms",
        floor_label="GET /ping, one client, median",
        target=f"median <= {ALONE_MS:g} ms",
        met=result.get_alone_ms <= ALONE_MS,
        detail="from a Python client (httpx): {:.2f} ms, /ping {:.2f} ms".format(
            *result.python_alone_ms
        ),
    )


def _report(ctx: Context, out: Outcome, results: list[ServerResult], tool: str) -> None:
    out.rows += [_alone_row(result) for result in results]
    for result in results:
        out.rows.append(_latency_row(result, "GET /api/sessions?scope=available", result.get, 200))
        out.rows.append(_latency_row(result, "POST /api/sessions/{id}/enroll", result.enroll, 201))
    for result in results:
        out.rows += _few_rows(result)
    if len(results) == 3:
        one, two = results[1], results[2]
        for what, a, b in (
            ("GET available", one.get, two.get),
            ("POST enroll", one.enroll, two.enroll),
            ("GET /ping (context)", one.ping, two.ping),
        ):
            is_target = "ping" not in what
            out.rows.append(
                Row(
                    "API scaling (PostgreSQL + Redis)",
                    f"{what}: requests/s with 2 workers",
                    b.rps,
                    a.rps,
                    "/s",
                    floor_label="the same with 1 worker",
                    target=f">= {SCALING:g}x of 1 worker" if is_target else "",
                    met=(b.rps >= SCALING * a.rps) if is_target else None,
                )
            )
    cores = os.cpu_count() or 1
    out.notes.append(
        f"API load: generated by {tool}, {ctx.plan.api_clients} connections, "
        f"{ctx.plan.api_seconds:g} s per endpoint ({ctx.plan.api_ping_seconds:g} s for /ping), "
        f"on {cores} cores shared by the load generator, the app's workers, PostgreSQL and Redis."
    )
    if shutil.which("wrk"):
        out.notes.append(
            f"API alone: one wrk connection, {ALONE_ROUNDS} rounds of 2 s of GET then 2 s of "
            "/ping, the median of the rounds' medians: the server's time per request. Beside "
            "it, the same pair from a Python client (httpx, 100 turns), which adds its own work "
            "to each figure: compare the two /ping figures."
        )
    for result in results:
        waits = [
            f"{what} at {run.rps:,.0f} req/s: {ctx.plan.api_clients / run.rps * 1000:.0f} ms"
            for what, run in (("GET", result.get), ("enroll", result.enroll))
            if run.rps
        ]
        out.notes.append(
            f"{result.label}: one GET alone takes {result.get_alone_ms:.1f} ms (median, no other "
            f"client). Under load each client waits on average clients / throughput (Little's "
            f"law): {'; '.join(waits)}. So p95 follows throughput: requests queue for the "
            "worker(s)."
        )
    if len(results) == 3:
        one, two = results[1], results[2]
        out.notes.append(
            f"API scaling: with {cores} cores for wrk, PostgreSQL, Redis and the workers, a "
            f"second worker has little idle CPU to use: the no-database floor GET /ping goes "
            f"from {one.ping.rps:,.0f} to {two.ping.rps:,.0f} req/s "
            f"({two.ping.rps / one.ping.rps:.2f}x). The 1.5x target needs a machine with more "
            "cores than workers plus the servers they use."
        )
    missed = [r for r in out.rows if r.met is False and "GET" in r.figure]
    if missed:
        out.profiles["API: GET /api/sessions?scope=available"] = _profile_get(ctx, results[0])
