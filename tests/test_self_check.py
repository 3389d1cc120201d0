"""This repository passes its own ``harness check``: every default gate, run as CI runs it.

The tests gate is the one exception: this suite is that gate, so the child run is told (through
the gate's recursion guard) that it already runs inside it. test-integrity skips without --base.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.gates.tests import GUARD_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_repository_passes_its_own_harness_check():
    harness = Path(sys.executable).with_name("harness")
    env = {**os.environ, GUARD_ENV: str(REPO_ROOT)}
    result = subprocess.run(
        [str(harness), "check", "--format", "json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    failing = [
        f"{f['path']}:{f['line']}: {f['rule']} {f['message']}"
        for gate in report["gates"]
        for f in gate["findings"]
    ]
    assert result.returncode == 0, "\n".join(failing[:30]) or result.stderr
    ran = {g["id"] for g in report["gates"] if not g["skipped"]}
    assert {"format", "ruff", "rules", "protected", "architecture", "docs", "smoke-train"} <= ran
