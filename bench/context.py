"""What every benchmark is handed: the run's sizes and durations, a work folder, shared data."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Plan:
    """Sizes, counts and time bounds of one run (full or quick)."""

    name: str
    browse_sizes: tuple[int, ...]
    browse_calls: int  # per query shape and size, at most ...
    browse_seconds: float  # ... or this long
    stats_sessions: int
    stats_calls: int
    stats_seconds: float
    enroll_seconds: float  # per run (floor or service), each run at most ...
    enroll_per_client: int  # ... this many enrollments per client
    enroll_rounds: int  # floor and service alternate this many times
    api_sessions: int  # sessions in the API server's database
    api_seconds: float
    api_ping_seconds: float
    api_clients: int
    browser_repeats: int
    page_loads: int


FULL = Plan(
    name="full",
    browse_sizes=(1_000, 10_000, 100_000),
    browse_calls=400,
    browse_seconds=12,
    stats_sessions=5_000,
    stats_calls=200,
    stats_seconds=15,
    # Many short alternating rounds rather than two long ones: the shared host's drift (and a
    # SQLite checkpoint landing in one run) falls on the floor, the service and the service
    # without notices alike.
    enroll_seconds=2,
    enroll_per_client=500,
    enroll_rounds=6,
    api_sessions=10_000,
    api_seconds=20,
    api_ping_seconds=10,
    api_clients=50,
    browser_repeats=15,
    page_loads=10,
)

QUICK = Plan(
    name="quick",
    browse_sizes=(1_000, 10_000),
    browse_calls=60,
    browse_seconds=3,
    stats_sessions=1_000,
    stats_calls=30,
    stats_seconds=4,
    enroll_seconds=1.5,
    enroll_per_client=300,
    enroll_rounds=1,
    api_sessions=2_000,
    api_seconds=5,
    api_ping_seconds=3,
    api_clients=50,
    browser_repeats=4,
    page_loads=3,
)


@dataclass
class Context:
    plan: Plan
    workdir: Path  # data files; removed at the end of the run
    profiles_dir: Path  # pyinstrument HTML reports, kept (ignored by git)
    stack: ExitStack  # closes shared resources (servers, databases) at the end
    cache: dict[str, Any] = field(default_factory=dict)

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """A resource made once per run and shared by the benchmarks that need it."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def log(self, message: str) -> None:
        print(f"[bench] {message}", flush=True)
