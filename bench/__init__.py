"""Visio's benchmarks: every figure measured beside its floor in the same run.

`python -m bench` (or `make bench`) runs them all and writes bench/results.md; `--quick` runs
smaller sizes for a check, `--only NAME` one benchmark. Never part of the test suite.
"""
