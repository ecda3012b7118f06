"""Timing helpers shared by the benchmarks, and the row every benchmark reports."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of the results table: a figure beside its floor, and the target it answers to.

    `value` and `floor` are numbers in `unit`; `ratio` is value / floor unless given. `met` is
    None when the row has no target of its own (context for another row).
    """

    benchmark: str
    figure: str
    value: float
    floor: float | None
    unit: str
    floor_label: str = ""
    target: str = ""
    met: bool | None = None
    ratio: float | None = None
    detail: str = ""  # extra absolute figures shown beside the value (e.g. "p50 3.1")

    @property
    def computed_ratio(self) -> float | None:
        if self.ratio is not None:
            return self.ratio
        if self.floor:
            return self.value / self.floor
        return None


@dataclass
class Outcome:
    """What one benchmark hands back: its rows, notes for the results, profile summaries."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)  # title -> short text summary


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Timing:
    """Latencies of repeated calls, in milliseconds."""

    samples: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    def __str__(self) -> str:
        return f"p50 {self.p50:.2f} ms, p95 {self.p95:.2f} ms (n={len(self.samples)})"


def time_calls(fn: Callable[[], Any], *, count: int, seconds: float, warmup: int = 3) -> Timing:
    """Call `fn` up to `count` times or for `seconds`, whichever ends first; ms per call."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(samples) < count and time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(samples)


def time_side_by_side(
    calls: dict[str, Callable[[], Any]], *, count: int, seconds: float, warmup: int = 3
) -> dict[str, Timing]:
    """Time several calls interleaved (a, b, a, b, ...), so drift hits each of them alike."""
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + seconds
    rounds = 0
    while rounds < count and time.perf_counter() < deadline:
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
        rounds += 1
    return {name: Timing(found) for name, found in samples.items()}


def profile_summary(fn: Callable[[], Any], *, repeat: int, html: Path | None = None) -> str:
    """Run `fn` `repeat` times under pyinstrument; the text tree of where the time went."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeat):
        fn()
    profiler.stop()
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(profiler.output_html())
    return profiler.output_text(unicode=False, color=False, show_all=False)


def top_frames(text: str, limit: int = 14) -> str:
    """The first lines of a pyinstrument tree: enough to say where the time goes."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    # Skip pyinstrument's banner (the lines before the first timing line).
    start = next((i for i, line in enumerate(lines) if line.lstrip()[:1].isdigit()), 0)
    return "\n".join(lines[start : start + limit])
