"""`make install` (and so the first `make run`): it says what it installs and how long it takes.

The Makefile's install recipe runs for real, with a stand-in for Python that creates the
virtualenv folder and answers every ``pip install`` at once, so the test takes a second.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from kb.config import PROJECT_ROOT

FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi
echo "PIP-STAND-IN $*"
"""
DURATION = re.compile(r"±\s*\d+\s*(?:seconden|minuut|minuten)")


@pytest.mark.skipif(shutil.which("make") is None, reason="make ontbreekt")
def test_install_says_what_it_installs_and_how_long_it_takes(tmp_path):
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    venv = tmp_path / "venv"
    run = subprocess.run(
        ["make", "--no-print-directory", "install", f"VENV={venv}", f"PYTHON={python}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (venv / ".installed").exists()
    lines = run.stdout.splitlines()
    pips = [i for i, line in enumerate(lines) if line.startswith("PIP-STAND-IN") and " install " in line]
    assert len(pips) == 3, lines  # pip itself, torch, the project: still quiet (CI logs stay short)
    assert all("--quiet" in lines[i] for i in pips)
    # the first line says the whole install takes about two minutes
    assert "± 2 minuten" in lines[0], lines
    # before each step a Dutch line with what is installed and roughly how long it takes
    for i, what in zip(pips, ("pip", "PyTorch", "pakketten"), strict=True):
        said = [line for line in lines[:i] if DURATION.search(line) and not line.startswith(("PIP-STAND-IN", "/"))]
        assert said and what in said[-1], (what, said)
    assert lines[-1] == "Installatie klaar."
