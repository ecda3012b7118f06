"""Starting with a bad setting, as an operator would: a new process reads the settings."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def refused_start(**env: str) -> str:
    """Read the settings in a new process with `env` added: the start must stop with a message
    for the operator, not a traceback. That message (stderr)."""
    started = subprocess.run(
        [sys.executable, "-c", "import visio.settings"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "Traceback" not in started.stderr
    return started.stderr
