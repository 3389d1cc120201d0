"""The protected gate and `harness.protect.approve` on a real temporary git repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import protect
from harness.check import run_gate as run_named_gate
from harness.gates import GateContext

MANIFEST = 'sealed = ["nanochat/evaluate.py", "golden/**", "architecture/protected.toml"]\n'


@pytest.fixture
def sealed_repo(make_repo, git) -> Path:
    root = make_repo(
        {
            "architecture/protected.toml": MANIFEST,
            "nanochat/evaluate.py": "def bpb():\n    return 1.0\n",
            "nanochat/train.py": "STEPS = 10\n",
            "golden/NC101/bad_one.py": "x = 1\n",
        }
    )
    protect.approve(root, reason="initial seal", who="Ada")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "seal")
    return root


def run_gate(root: Path):
    return run_named_gate("protected", GateContext(root=root))


def test_untouched_sealed_files_pass(sealed_repo: Path) -> None:
    result = run_gate(sealed_repo)
    assert result.ok and result.findings == []


def test_lock_records_hashes_of_sealed_files_only(sealed_repo: Path) -> None:
    lock = json.loads((sealed_repo / protect.LOCK).read_text())
    assert sorted(lock["files"]) == [
        "architecture/protected.toml",
        "golden/NC101/bad_one.py",
        "nanochat/evaluate.py",
    ]


def test_editing_a_sealed_file_is_prot001(sealed_repo: Path) -> None:
    (sealed_repo / "nanochat/evaluate.py").write_text("def bpb():\n    return 0.5\n")
    result = run_gate(sealed_repo)
    assert not result.ok
    assert [(f.rule, f.path) for f in result.findings] == [("PROT001", "nanochat/evaluate.py")]
    assert "harness protect approve" in result.findings[0].fix_title


def test_editing_an_unsealed_file_passes(sealed_repo: Path) -> None:
    (sealed_repo / "nanochat/train.py").write_text("STEPS = 20\n")
    assert run_gate(sealed_repo).ok


def test_new_and_deleted_sealed_files_are_reported(sealed_repo: Path) -> None:
    (sealed_repo / "golden/NC101/bad_one.py").unlink()
    (sealed_repo / "golden/NC101/good_one.py").write_text("y = 2\n")
    messages = {f.path: f.message for f in run_gate(sealed_repo).findings}
    assert "was deleted" in messages["golden/NC101/bad_one.py"]
    assert "new sealed file" in messages["golden/NC101/good_one.py"]


def test_widening_the_manifest_itself_is_reported(sealed_repo: Path) -> None:
    (sealed_repo / "architecture/protected.toml").write_text('sealed = ["nanochat/evaluate.py"]\n')
    paths = [f.path for f in run_gate(sealed_repo).findings]
    assert "architecture/protected.toml" in paths


def test_ignored_files_are_not_sealed(sealed_repo: Path) -> None:
    (sealed_repo / ".gitignore").write_text("__pycache__/\n")
    (sealed_repo / "golden/__pycache__").mkdir()
    (sealed_repo / "golden/__pycache__/x.pyc").write_bytes(b"\0\1")
    assert run_gate(sealed_repo).ok


def test_approve_records_who_why_and_changed_files(sealed_repo: Path) -> None:
    (sealed_repo / "nanochat/evaluate.py").write_text("def bpb():\n    return 0.5\n")
    changed = protect.approve(sealed_repo, reason="fix the byte count", who="Grace")
    assert changed == ["nanochat/evaluate.py"]
    approvals = json.loads((sealed_repo / protect.LOCK).read_text())["approvals"]
    assert [a["who"] for a in approvals] == ["Ada", "Grace"]
    assert approvals[-1]["why"] == "fix the byte count"
    assert approvals[-1]["files"] == ["nanochat/evaluate.py"]
    assert approvals[-1]["when"].endswith("Z")
    assert run_gate(sealed_repo).ok


def test_approve_without_changes_appends_nothing(sealed_repo: Path) -> None:
    assert protect.approve(sealed_repo, reason="nothing to do", who="Grace") == []
    assert len(json.loads((sealed_repo / protect.LOCK).read_text())["approvals"]) == 1


def test_approve_defaults_who_to_the_git_user(sealed_repo: Path) -> None:
    (sealed_repo / "golden/NC101/bad_one.py").write_text("x = 2\n")
    protect.approve(sealed_repo, reason="new example")
    assert (
        json.loads((sealed_repo / protect.LOCK).read_text())["approvals"][-1]["who"]
        == "Test Author"
    )


def test_approve_refuses_an_empty_reason(sealed_repo: Path) -> None:
    with pytest.raises(protect.ManifestError, match="needs a reason"):
        protect.approve(sealed_repo, reason="  ")


def test_missing_lock_is_prot002(make_repo) -> None:
    root = make_repo({"architecture/protected.toml": MANIFEST})
    result = run_gate(root)
    assert [(f.rule, f.path) for f in result.findings] == [("PROT002", protect.LOCK)]
    assert not result.ok


def test_corrupt_lock_is_prot002_not_a_crash(sealed_repo: Path) -> None:
    (sealed_repo / protect.LOCK).write_text("{not json")
    finding = run_gate(sealed_repo).findings[0]
    assert finding.rule == "PROT002" and "not valid JSON" in finding.message


def test_invalid_manifest_is_prot002(sealed_repo: Path) -> None:
    (sealed_repo / "architecture/protected.toml").write_text("sealed = 3\n")
    finding = run_gate(sealed_repo).findings[0]
    assert (finding.rule, finding.path) == ("PROT002", protect.MANIFEST)


def test_this_repository_seals_the_evaluation_and_the_rules() -> None:
    globs = protect.load_globs(Path(__file__).resolve().parents[2])
    assert protect.is_sealed("nanochat/evaluate.py", globs)
    assert protect.is_sealed("rules/mutable_default_argument.py", globs)
    assert protect.is_sealed("nanochat/dataset.py", globs)
    assert not protect.is_sealed("nanochat/train.py", globs)


def test_an_approval_written_inside_the_change_is_prot004_at_its_line(
    sealed_repo: Path, git
) -> None:
    git(sealed_repo, "tag", "sealed")
    (sealed_repo / "nanochat/evaluate.py").write_text("def bpb():\n    return 0.5\n")
    protect.approve(sealed_repo, reason="fix the byte count", who="Grace")
    result = run_named_gate("protected", GateContext(root=sealed_repo, base="sealed"))
    assert not result.ok
    by_rule = {f.rule: f for f in result.findings}
    assert sorted(by_rule) == ["PROT001", "PROT004"]
    assert by_rule["PROT001"].path == "nanochat/evaluate.py"
    assert "since the approval in architecture/protected.lock.json at sealed" in (
        by_rule["PROT001"].message
    )
    lock_finding = by_rule["PROT004"]
    assert lock_finding.message.startswith(
        "Grace re-approved 1 path(s): 'fix the byte count' inside the change under check"
    )
    lock_lines = (sealed_repo / protect.LOCK).read_text().splitlines()
    assert '"when"' in lock_lines[lock_finding.line - 1]
