"""The precision measurement script runs end to end on a tiny third-party tree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ci" / "measure_rule_precision.py"


def test_measurement_counts_findings_per_rule_and_samples_them(tmp_path: Path) -> None:
    package = tmp_path / "thirdparty"
    package.mkdir()
    (package / "loader.py").write_text(
        '"""A loader."""\n\nimport torch\n\n\ndef load(path):\n    return torch.load(path)\n'
    )
    out = tmp_path / "samples.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(package), "--workers", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert "| NC202 | 1 |" in result.stdout
    samples = json.loads(out.read_text())["samples"]
    assert samples["NC202"][0]["path"] == "thirdparty/loader.py"
