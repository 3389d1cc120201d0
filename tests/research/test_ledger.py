"""The research ledger: append-only, shared by threads and processes, intact after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness.research.ledger import TSV_COLUMNS, Ledger, LedgerError, visible_to_proposers

ROOT = Path(__file__).parents[2]


def _experiment(score: float, status: str = "discard") -> dict:
    return {"kind": "experiment", "commit": "abcdef1234", "score": score, "memory_gb": 0.4,
            "status": status, "description": f"try {score}"}  # fmt: skip


def test_records_get_sequential_ids_and_tsv_rows_in_autoresearch_format(tmp_path: Path) -> None:
    ledger = Ledger.create(tmp_path / "tag", {"tag": "t"})
    ledger.append({"kind": "baseline", "commit": "1234567890", "score": 2.5, "memory_gb": 0.41,
                   "status": "keep", "description": "baseline seed 42"})  # fmt: skip
    ledger.append(_experiment(2.4))
    assert [r["id"] for r in ledger.records()] == ["r00001", "r00002"]
    lines = ledger.tsv.read_text().splitlines()
    assert lines[0] == "\t".join(TSV_COLUMNS)
    assert lines[1:] == [
        "1234567\t2.500000\t0.4\tkeep\tbaseline seed 42",
        "abcdef1\t2.400000\t0.4\tdiscard\ttry 2.4",
    ]


def test_a_crash_row_scores_zero_as_autoresearch_does(tmp_path: Path) -> None:
    ledger = Ledger.create(tmp_path / "tag", {})
    ledger.append({"kind": "experiment", "commit": "", "score": None, "status": "crash",
                   "description": "oom"})  # fmt: skip
    assert ledger.tsv.read_text().splitlines()[1] == "\t0.000000\t0.0\tcrash\toom"


def test_a_torn_last_line_is_skipped_and_fenced_off_by_the_next_append(tmp_path: Path) -> None:
    ledger = Ledger.create(tmp_path / "tag", {})
    ledger.append(_experiment(2.4))
    with open(ledger.jsonl, "a") as handle:
        handle.write('{"kind": "experiment", "sco')
    assert len(ledger.records()) == 1
    ledger.append(_experiment(2.3))
    assert [r["score"] for r in ledger.records()] == [2.4, 2.3]


def test_threads_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    ledger = Ledger.create(tmp_path / "tag", {})
    threads = [
        threading.Thread(
            target=lambda i=i: [ledger.append(_experiment(i + k / 100)) for k in range(20)]
        )
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = ledger.records()
    assert len(records) == 80
    assert len({r["id"] for r in records}) == 80
    assert len(ledger.tsv.read_text().splitlines()) == 81


def test_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "tag"
    Ledger.create(directory, {})
    script = (
        "import sys; from harness.research.ledger import Ledger; "
        "ledger = Ledger.open(sys.argv[1]); "
        "[ledger.append({'kind': 'experiment', 'score': i, 'status': 'discard'}) for i in range(25)]"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", script, str(directory)], cwd=ROOT) for _ in range(3)
    ]
    assert [c.wait(timeout=60) for c in children] == [0, 0, 0]
    assert len(Ledger.open(directory).records()) == 75


def test_kill_9_mid_run_keeps_every_finished_record(tmp_path: Path) -> None:
    directory = tmp_path / "tag"
    Ledger.create(directory, {})
    script = (
        "import sys; from harness.research.ledger import Ledger; ledger = Ledger.open(sys.argv[1])\n"
        "i = 0\n"
        "while True:\n"
        "    ledger.append({'kind': 'experiment', 'score': i, 'status': 'discard', 'pad': 'x' * 5000})\n"
        "    i += 1\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(directory)], cwd=ROOT)
    ledger = Ledger(directory)
    while len(ledger.records()) < 30:
        pass
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reopened = Ledger.open(directory)
    scores = [r["score"] for r in reopened.records()]
    assert scores == list(range(len(scores)))
    assert len(reopened.tsv.read_text().splitlines()) == len(scores) + 1


def test_reopening_appends_tsv_rows_a_kill_left_unwritten(tmp_path: Path) -> None:
    ledger = Ledger.create(tmp_path / "tag", {})
    ledger.append(_experiment(2.4))
    with open(ledger.jsonl, "a") as handle:  # the JSONL record landed, its TSV row did not
        handle.write(json.dumps({"id": "r00002", **_experiment(2.2, "keep")}) + "\n")
    Ledger.open(ledger.directory)
    assert ledger.tsv.read_text().splitlines()[-1] == "abcdef1\t2.200000\t0.4\tkeep\ttry 2.2"


def test_opening_a_folder_without_a_ledger_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(
        LedgerError, match=r"no research ledger here; run `harness research init --tag TAG`"
    ):
        Ledger.open(tmp_path)


def test_proposers_never_see_test_scores_at_any_depth() -> None:
    record = {
        "score": 2.4, "test_score": 2.5, "description": "x",
        "secondary": {"nats_per_token": 1.6, "test_nats_per_token": 1.7},
        "runs": [{"score": 2.4, "test_score": 2.5}],
    }  # fmt: skip
    assert visible_to_proposers(record) == {
        "score": 2.4, "description": "x", "secondary": {"nats_per_token": 1.6},
        "runs": [{"score": 2.4}],
    }  # fmt: skip
