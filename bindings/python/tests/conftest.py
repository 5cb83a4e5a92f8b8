"""Paths of the checkout: SPIRAL_REPO (default: three levels up) and the CLI built next to
the libraries the module links (SPIRAL_CLI, default <repo>/build/spiral)."""
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(os.environ.get("SPIRAL_REPO", Path(__file__).resolve().parents[3]))
CLI = Path(os.environ.get("SPIRAL_CLI", REPO / "build" / "spiral"))


@pytest.fixture
def repo():
    return REPO


def run_cli(*args):
    """The CLI's JSON (or its error message) for the same command."""
    done = subprocess.run([str(CLI), *map(str, args), "--format", "json"], capture_output=True, text=True)
    return done.returncode, (json.loads(done.stdout) if done.returncode == 0 else done.stderr)


@pytest.fixture
def cli():
    if not CLI.exists():
        pytest.fail(f"no CLI at {CLI}: build it (make python) or set SPIRAL_CLI")
    return run_cli


def reference(name):
    return json.loads((REPO / "tests" / "reference" / name).read_text())
