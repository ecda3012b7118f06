"""bench/results.md: the machine, the date, one table, then notes and profile summaries."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata

from bench.measure import Outcome, Row


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _postgres_version() -> str:
    from bench.data import PG_ADMIN_URL, postgres_available

    if postgres_available():
        return "not reachable"
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar()
    engine.dispose()
    return str(version)


def _redis_version() -> str:
    try:
        import redis

        from bench.api_load import REDIS_URL

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        version = client.info("server")["redis_version"]
        client.close()
        return str(version)
    except Exception:  # noqa: BLE001
        return "not reachable"


def _chromium_version() -> str:
    try:
        found = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20
        )
        return found.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def _commit() -> str:
    try:
        found = subprocess.run(
            ["git", "log", "-1", "--format=%h %s"], capture_output=True, text=True, timeout=20
        )
        return found.stdout.strip()[:100] or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> list[tuple[str, str]]:
    return [
        ("Code", _commit()),
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", _ram()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", sys.version.split()[0]),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", _postgres_version()),
        ("Redis", _redis_version()),
        ("Reflex", metadata.version("reflex")),
        ("Browser", _chromium_version()),
    ]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "KB":
        return f"{value:.1f} KB"
    digits = 3 if value < 1 else 2 if value < 10 else 1 if value < 1000 else 0
    return f"{value:,.{digits}f} {unit}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def earlier_values(text: str) -> dict[tuple[str, str], str]:
    """The value cells of an earlier results file, by (benchmark, figure)."""
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) >= 7 and cells[0] not in ("benchmark", "---"):
            found[(cells[0], cells[1])] = cells[2]
    return found


def table(rows: list[Row], before: dict[tuple[str, str], str] | None = None) -> str:
    lines = [
        "| benchmark | figure | value | floor | ratio | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    if before is not None:
        lines = [lines[0] + " before |", lines[1] + "---|"]
    for row in rows:
        value = _number(row.value, row.unit) + (f" ({row.detail})" if row.detail else "")
        floor = _number(row.floor, row.unit)
        if row.floor_label:
            floor += f" ({row.floor_label})"
        ratio = row.computed_ratio
        met = {True: "met", False: "**missed**", None: "—"}[row.met]
        cells = [
            row.benchmark,
            row.figure,
            value,
            floor,
            f"{ratio:.2f}x" if ratio is not None else "—",
            row.target or "—",
            met,
        ]
        if before is not None:
            cells.append(before.get((_cell(row.benchmark), _cell(row.figure)), "—"))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def render(
    outcomes: dict[str, Outcome],
    *,
    plan: str,
    started: datetime,
    seconds: float,
    load_before: tuple[float, float, float],
    before: tuple[str, str] | None = None,
) -> str:
    """The results file; `before`: (its description, an earlier results file's text) whose values
    are shown beside this run's."""
    rows = [row for outcome in outcomes.values() for row in outcome.rows]
    missed = [r for r in rows if r.met is False]
    checked = [r for r in rows if r.met is not None]
    parts = [
        "# Visio benchmarks",
        "",
        f"Written by `python -m bench{'' if plan == 'full' else ' --quick'}` "
        f"({plan} run) on {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC; the run took "
        f"{seconds / 60:.1f} min. Each figure was measured beside its floor in the same run: "
        "the ratio is value / floor.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {name} | {_cell(value)} |" for name, value in machine()],
        f"| Load average (1 min) | {load_before[0]:.2f} before the run, "
        f"{os.getloadavg()[0]:.2f} after (anything else running shares the cores) |",
        "",
        f"Targets met: {len(checked) - len(missed)} of {len(checked)}.",
        "",
    ]
    if before is not None:
        parts += [f"The column *before*: {before[0]}", ""]
    parts += [table(rows, earlier_values(before[1]) if before else None), ""]
    notes = [note for outcome in outcomes.values() for note in outcome.notes]
    if notes:
        parts += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    profiles = {k: v for outcome in outcomes.values() for k, v in outcome.profiles.items()}
    if profiles:
        parts += [
            "## Profiles of the missed targets",
            "",
            "pyinstrument, the top of the call tree (HTML reports in bench/profiles/), after the "
            "SQL statements of one call with their times and SQLite's query plan.",
            "",
        ]
        for title, text in profiles.items():
            parts += [f"### {title}", "", "```", text.strip(), "```", ""]
    return "\n".join(parts)
