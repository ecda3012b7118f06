"""`python -m bench [--quick] [--only NAME[,NAME]] [--out PATH] [--keep]`: run, then report.

A full run writes bench/results.md; a quick or partial run prints its table (and writes it only
where --out says), so it never replaces the reference figures.
"""

from __future__ import annotations

import os

# Settings are read once at import: cheap password hashing for the bulk users, before visio loads.
os.environ.setdefault("VISIO_ARGON2_TIME_COST", "1")
os.environ.setdefault("VISIO_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

import argparse  # noqa: E402
import importlib  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.context import BENCH_DIR, FULL, QUICK, Context  # noqa: E402
from bench.measure import Outcome  # noqa: E402

# name -> "module:function"; run in this order (the browser before the API load on one server).
BENCHMARKS = {
    "browse": "bench.services:browse",
    "dashboard": "bench.services:dashboard",
    "enroll": "bench.enroll:run",
    "mail": "bench.mail_delivery:run",
    "state": "bench.state_size:run",
    "browser": "bench.browser:run",
    "api": "bench.api_load:run",
}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these ({', '.join(BENCHMARKS)}); repeat or separate with commas",
    )
    parser.add_argument("--out", type=Path, help="where to write the results (markdown)")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="PATH",
        help="an earlier results file (say, the code before a change, run just before on this "
        "machine): its values are shown beside this run's",
    )
    parser.add_argument(
        "--before-label",
        default="",
        metavar="TEXT",
        help="what --before measured (the commit, when it ran)",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for value in args.only for name in value.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    return args


def _load(target: str):  # type: ignore[no-untyped-def]
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


QUIET_LOAD = 0.5  # the 1-minute load average under which the host counts as quiet
QUIET_WAIT_SECONDS = 300


def _wait_for_quiet_host() -> None:
    """Before a full run, wait (a few minutes at most) until nothing else keeps the cores busy:
    a test suite or a build running beside the benchmarks takes their CPU and lowers every
    figure (the load average before and after the run is in the results either way)."""
    deadline = time.monotonic() + QUIET_WAIT_SECONDS
    while os.getloadavg()[0] > QUIET_LOAD and time.monotonic() < deadline:
        print(
            f"[bench] waiting for a quiet host (load {os.getloadavg()[0]:.2f} > {QUIET_LOAD}) ...",
            flush=True,
        )
        time.sleep(15)


def main(argv: list[str]) -> int:
    # A SIGTERM unwinds like an exception: servers stopped, throwaway databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = _parse(argv)
    plan = QUICK if args.quick else FULL
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    out = args.out or (BENCH_DIR / "results.md" if plan is FULL and not args.only else None)
    workdir = Path(tempfile.mkdtemp(prefix="visio-bench-"))
    if plan is FULL:
        _wait_for_quiet_host()
    started, clock, load_before = datetime.now(UTC), time.perf_counter(), os.getloadavg()
    outcomes: dict[str, Outcome] = {}
    failed = False
    with ExitStack() as stack:
        ctx = Context(plan, workdir, BENCH_DIR / "profiles", stack)
        try:
            for name in names:
                ctx.log(f"=== {name} ({plan.name}) ===")
                began = time.perf_counter()
                try:
                    outcomes[name] = _load(BENCHMARKS[name])(ctx)
                except Exception as exc:  # noqa: BLE001 (reported; the other benchmarks go on)
                    failed = True
                    traceback.print_exc()
                    outcomes[name] = Outcome(notes=[f"{name} failed: {type(exc).__name__}: {exc}"])
                ctx.log(f"=== {name} done in {time.perf_counter() - began:.0f} s ===")
        finally:
            stack.close()
            if args.keep:
                ctx.log(f"data kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)

    from bench.report import render

    text = render(
        outcomes,
        plan=plan.name,
        started=started,
        seconds=time.perf_counter() - clock,
        load_before=load_before,
        before=(args.before_label or str(args.before), args.before.read_text())
        if args.before
        else None,
    )
    print(text)
    if out is not None:
        out.write_text(text)
        print(f"[bench] written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
