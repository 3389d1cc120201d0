"""The change under check never judges itself: each tamper attempt fails `harness check --base`.

Every test builds a real repository: a copy of this checker (`harness/`, `rules/`), a sealed
evaluator, a test file, a manifest and a lock approved on `main`, and a maintainer's real SSH key
in `architecture/allowed_signers`. The change is made on a branch, as an agent would, and judged
by the documented CI command, `harness check --base main`, run by the base's harness.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import protect
from harness.cli import main

PROJECT = Path(__file__).resolve().parents[2]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Agent",
    "GIT_AUTHOR_EMAIL": "agent@example.com",
    "GIT_COMMITTER_NAME": "Agent",
    "GIT_COMMITTER_EMAIL": "agent@example.com",
}
PYPROJECT = """[project]
name = "demo"
version = "0"
optional-dependencies = { dev = ["pytest"] }

[tool.harness]
enabled-gates = ["rules", "protected", "test-integrity"]
exclude = ["harness/**", "rules/**", "golden/**"]
"""
MANIFEST = """sealed = [
    "nanochat/evaluate.py",
    "harness/**",
    "rules/**",
    "golden/**",
    "architecture/*.toml",
    "architecture/allowed_signers",
]
sealed-tables = ["pyproject.toml#tool.harness"]
"""
EVALUATE = "def bits_per_byte(nats, n_bytes):\n    return nats / (0.6931471805599453 * n_bytes)\n"
TESTS = """import pytest

from nanochat.evaluate import bits_per_byte


def test_bits_per_byte_of_one_nat_per_byte():
    assert bits_per_byte(0.6931471805599453, 1) == pytest.approx(1.0, rel=1e-9)


def test_zero_bytes_raise():
    with pytest.raises(ZeroDivisionError, match="division"):
        bits_per_byte(1.0, 0)
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def keygen(folder: Path, name: str) -> Path:
    """A real ed25519 key pair without a passphrase; returns the private key's path."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def signer_line(principal: str, key: Path) -> str:
    kind, blob = key.with_suffix(".pub").read_text().split()[:2]
    return f'{principal} namespaces="git" {kind} {blob}\n'


def signed_commit(root: Path, key: Path, message: str) -> None:
    git(root, "add", "-A")
    git(
        root,
        "-c",
        "gpg.format=ssh",
        "-c",
        f"user.signingkey={key}",
        "commit",
        "-q",
        "-S",
        "-m",
        message,
    )


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    return {"maintainer": keygen(folder, "maintainer"), "agent": keygen(folder, "agent")}


@pytest.fixture
def repo(tmp_path: Path, keys: dict[str, Path]) -> Path:
    """`main` holds the sealed project; the working tree is on branch `change`."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for package in ("harness", "rules"):
        shutil.copytree(
            PROJECT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    write_files(
        root,
        {
            ".gitignore": "__pycache__/\n.harness_cache/\n",
            "pyproject.toml": PYPROJECT,
            "architecture/protected.toml": MANIFEST,
            "architecture/allowed_signers": signer_line("ada@example.com", keys["maintainer"]),
            "nanochat/__init__.py": "",
            "nanochat/evaluate.py": EVALUATE,
            "nanochat/train.py": "STEPS = 10\n",
            "golden/NC101/bad_example.py": "x = 1\n",
            "tests/test_evaluate.py": TESTS,
        },
    )
    protect.approve(root, reason="initial seal", who="Ada")
    commit(root, "sealed project")
    git(root, "checkout", "-q", "-b", "change")
    return root


def ci_check(root: Path, *extra: str) -> tuple[int, list[dict], dict]:
    """The documented CI command, run by the base's harness; (exit code, findings, report)."""
    result = CliRunner().invoke(
        main,
        ["check", "--root", str(root), "--base", "main", "--format", "json", *extra],
        catch_exceptions=False,
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.output)
    findings = [f for gate in report["gates"] for f in gate["findings"]]
    return result.exit_code, findings, report


def rules_of(findings: list[dict], severity: str = "error") -> set[tuple[str, str]]:
    return {(f["rule"], f["path"]) for f in findings if f["severity"] == severity}


def tamper_evaluator(root: Path) -> None:
    (root / "nanochat/evaluate.py").write_text(EVALUATE.replace("0.69314", "0.9"))


def test_an_honest_change_passes(repo: Path) -> None:
    (repo / "nanochat/train.py").write_text("STEPS = 20\n")
    with (repo / "tests/test_evaluate.py").open("a") as handle:
        handle.write("\n\ndef test_two_nats_over_two_bytes():\n")
        handle.write("    assert bits_per_byte(1.3862943611198906, 2) == pytest.approx(1.0)\n")
    commit(repo, "more steps, one more test")
    code, findings, report = ci_check(repo)
    assert code == 0, findings
    assert report["judged_by"]["policy"].startswith("base main")


def test_approving_inside_the_change_does_not_count(repo: Path) -> None:
    tamper_evaluator(repo)
    protect.approve(repo, reason="refactor", who="agent")
    commit(repo, "refactor")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {
        ("PROT001", "nanochat/evaluate.py"),
        ("PROT004", "architecture/protected.lock.json"),
    }
    lock_finding = next(f for f in findings if f["rule"] == "PROT004")
    assert "commit" in lock_finding["message"] and "not signed" in lock_finding["message"]
    assert "SSH" in lock_finding["fix_title"]


def test_a_hand_edited_lock_hash_does_not_count(repo: Path) -> None:
    tamper_evaluator(repo)
    lock = json.loads((repo / protect.LOCK).read_text())
    lock["files"]["nanochat/evaluate.py"] = protect.sha256_of(repo / "nanochat/evaluate.py")
    (repo / protect.LOCK).write_text(json.dumps(lock, indent=2) + "\n")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {
        ("PROT001", "nanochat/evaluate.py"),
        ("PROT004", "architecture/protected.lock.json"),
    }


def tamper_gate_and_evaluator(repo: Path) -> None:
    """Make the protected gate report nothing, edit the sealed evaluator, and commit both."""
    gate = repo / "harness/gates/protected.py"
    text = gate.read_text()
    start = text.index("    policy: Policy = ")
    gate.write_text(text[:start] + "    return GateOutput()\n" + text[start:])
    tamper_evaluator(repo)
    commit(repo, "simplify the gate")


def test_a_checker_edited_to_pass_is_judged_by_the_base_checker(repo: Path) -> None:
    tamper_gate_and_evaluator(repo)
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {
        ("PROT001", "harness/gates/protected.py"),
        ("PROT001", "nanochat/evaluate.py"),
    }


def test_the_changes_own_harness_hands_the_verdict_to_the_base_checker(repo: Path) -> None:
    tamper_gate_and_evaluator(repo)
    boot = f"import sys; sys.path.insert(0, {str(repo)!r}); from harness.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", boot, "check", "--base", "main", "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert "checker of base main" in report["judged_by"]["checker"]
    findings = [f for g in report["gates"] for f in g["findings"]]
    assert ("PROT001", "nanochat/evaluate.py") in rules_of(findings)


def test_switching_gates_off_in_pyproject_does_not_switch_them_off(repo: Path) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"protected", "test-integrity"', '"rules"'))
    tamper_evaluator(repo)
    commit(repo, "faster checks")
    code, findings, report = ci_check(repo)
    assert code == 1
    assert [g["id"] for g in report["gates"]] == ["rules", "protected", "test-integrity"]
    assert rules_of(findings) == {
        ("PROT001", "pyproject.toml"),
        ("PROT001", "nanochat/evaluate.py"),
    }
    table = next(f for f in findings if f["path"] == "pyproject.toml")
    assert "[tool.harness] table of pyproject.toml changed (enabled-gates)" in table["message"]
    assert pyproject.read_text().splitlines()[table["line"] - 1] == "[tool.harness]"
    assert "needs maintainer approval" in table["message"]


def test_editing_a_golden_file_is_reported(repo: Path) -> None:
    (repo / "golden/NC101/bad_example.py").write_text("x = 2\n")
    code, findings, _ = ci_check(repo)
    assert code == 1 and rules_of(findings) == {("PROT001", "golden/NC101/bad_example.py")}


def test_a_maintainer_signed_approval_counts(repo: Path, keys: dict[str, Path]) -> None:
    tamper_evaluator(repo)
    commit(repo, "agent: new evaluator constant")
    protect.approve(repo, reason="reviewed: the constant is the new definition", who="Ada")
    signed_commit(repo, keys["maintainer"], "approve the evaluator change")
    code, findings, report = ci_check(repo)
    assert code == 0, findings
    (warning,) = [f for f in findings if f["rule"] == "PROT003"]
    assert "signed by ada@example.com" in warning["message"]
    assert report["judged_by"]["policy"].startswith("change, approved by ada@example.com")


def test_a_signature_by_a_key_the_base_does_not_allow_does_not_count(
    repo: Path, keys: dict[str, Path]
) -> None:
    tamper_evaluator(repo)
    protect.approve(repo, reason="looks fine", who="agent")
    signed_commit(repo, keys["agent"], "approve")
    code, findings, _ = ci_check(repo)
    assert code == 1
    lock_finding = next(f for f in findings if f["rule"] == "PROT004")
    assert (
        "signed by a key not in the base's architecture/allowed_signers"
        in (lock_finding["message"])
    )


def test_a_key_added_by_the_change_itself_does_not_count(repo: Path, keys: dict[str, Path]) -> None:
    signers = repo / "architecture/allowed_signers"
    signers.write_text(signers.read_text() + signer_line("agent@example.com", keys["agent"]))
    tamper_evaluator(repo)
    protect.approve(repo, reason="add a maintainer", who="agent")
    signed_commit(repo, keys["agent"], "approve")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {
        ("PROT001", "architecture/allowed_signers"),
        ("PROT001", "nanochat/evaluate.py"),
        ("PROT004", "architecture/protected.lock.json"),
    }


def test_an_edit_after_the_signed_approval_is_still_caught(
    repo: Path, keys: dict[str, Path]
) -> None:
    tamper_evaluator(repo)
    protect.approve(repo, reason="reviewed", who="Ada")
    signed_commit(repo, keys["maintainer"], "approve")
    (repo / "nanochat/evaluate.py").write_text(EVALUATE.replace("0.69314", "0.1"))
    commit(repo, "agent: one more tweak")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {("PROT001", "nanochat/evaluate.py")}


def test_the_hosted_workflow_maintainer_flag_approves_the_changes_lock(repo: Path) -> None:
    tamper_evaluator(repo)
    protect.approve(repo, reason="reviewed in the PR", who="agent")
    commit(repo, "approve")
    code, findings, _ = ci_check(repo, "--maintainer-approval", "label harness:approved by @ada")
    assert code == 0, findings
    (warning,) = [f for f in findings if f["rule"] == "PROT003"]
    assert "--maintainer-approval" in warning["message"]


def weaken(repo: Path, old: str, new: str) -> None:
    path = repo / "tests/test_evaluate.py"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    commit(repo, "tidy the tests")


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("def test_zero_bytes_raise():", "def test_zero_bytes_raise_renamed():", "TI001"),
        (
            "    assert bits_per_byte(0.6931471805599453, 1) == pytest.approx(1.0, rel=1e-9)\n",
            "    bits_per_byte(0.6931471805599453, 1)\n",
            "TI002",
        ),
        (
            "def test_zero_bytes_raise():",
            "@pytest.mark.skip(reason='flaky')\ndef test_zero_bytes_raise():",
            "TI003",
        ),
        (
            "        bits_per_byte(1.0, 0)",
            "        pytest.skip('later')\n        bits_per_byte(1.0, 0)",
            "TI003",
        ),
        ("rel=1e-9", "rel=1e-2", "TI004"),
        (
            "== pytest.approx(1.0, rel=1e-9)",
            "is not None",
            "TI006",
        ),
        (
            "    assert bits_per_byte(0.6931471805599453, 1) == pytest.approx(1.0, rel=1e-9)\n",
            "    bits_per_byte(0.6931471805599453, 1)\n    assert True\n",
            "TI007",
        ),
        ('pytest.raises(ZeroDivisionError, match="division")', "pytest.raises(Exception)", "TI008"),
        ("        bits_per_byte(1.0, 0)", "        1 / 0", "TI009"),
    ],
    ids=[
        "renamed",
        "assert-removed",
        "skip-mark",
        "skip-call",
        "tolerance",
        "weakened",
        "assert-true",
        "raises-widened",
        "stops-calling",
    ],
)
def test_a_weakened_test_fails_the_check(repo: Path, old: str, new: str, code: str) -> None:
    weaken(repo, old, new)
    exit_code, findings, _ = ci_check(repo)
    assert exit_code == 1
    assert {f["rule"] for f in findings if f["severity"] == "error"} == {code}
    (finding,) = [f for f in findings if f["rule"] == code]
    assert finding["path"] == "tests/test_evaluate.py" and finding["fix_title"]


def test_deleting_the_test_file_fails_the_check(repo: Path) -> None:
    (repo / "tests/test_evaluate.py").unlink()
    commit(repo, "remove slow tests")
    code, findings, _ = ci_check(repo)
    assert code == 1 and {f["rule"] for f in findings} == {"TI001"}


@pytest.mark.parametrize(
    "conftest",
    [
        'collect_ignore = ["test_evaluate.py"]\n',
        "def pytest_collection_modifyitems(config, items):\n    items.clear()\n",
        "def pytest_runtest_makereport(item, call):\n    pass\n",
    ],
    ids=["collect-ignore", "deselect-hook", "outcome-hook"],
)
def test_narrowing_collection_in_conftest_fails_the_check(repo: Path, conftest: str) -> None:
    (repo / "tests/conftest.py").write_text(conftest)
    commit(repo, "conftest")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {("TI003", "tests/conftest.py")}


def test_a_reasonless_suppression_fails_the_check(repo: Path) -> None:
    (repo / "nanochat/train.py").write_text(
        "import random\nSTEP = random.random()  # harness: ignore[NC201]\n"
    )
    commit(repo, "random")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert ("HC002", "nanochat/train.py") in rules_of(findings)


def test_a_test_gate_severity_lowered_by_the_change_is_ignored(repo: Path) -> None:
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.harness.gates.test-integrity]\nseverity = "info"\n')
    weaken(repo, "rel=1e-9", "rel=1e-2")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {
        ("TI004", "tests/test_evaluate.py"),
        ("PROT001", "pyproject.toml"),
    }


def test_a_maintainer_acknowledges_a_deliberate_tolerance_change(
    repo: Path, keys: dict[str, Path]
) -> None:
    weaken(repo, "rel=1e-9", "rel=1e-6")
    protect.approve(
        repo, reason="float32 accumulation", who="Ada", acknowledge=["tests/test_evaluate.py"]
    )
    signed_commit(repo, keys["maintainer"], "acknowledge the tolerance")
    code, findings, _ = ci_check(repo)
    assert code == 0, findings
    (note,) = [f for f in findings if f["rule"] == "TI004"]
    assert note["severity"] == "info" and "float32 accumulation" in note["message"]


def test_an_acknowledgement_written_by_the_change_does_not_count(repo: Path) -> None:
    weaken(repo, "rel=1e-9", "rel=1e-6")
    protect.approve(repo, reason="it is fine", who="agent", acknowledge=["tests/test_evaluate.py"])
    commit(repo, "acknowledge")
    code, findings, _ = ci_check(repo)
    assert code == 1
    assert rules_of(findings) == {
        ("TI004", "tests/test_evaluate.py"),
        ("PROT004", "architecture/protected.lock.json"),
    }


def test_a_base_checker_from_before_the_trust_root_is_not_run_apart(tmp_path: Path) -> None:
    from harness.judge import predates_trust_root

    root = tmp_path / "old"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_files(root, {"harness/__init__.py": "", "harness/check.py": "X = 1\n"})
    commit(root, "a harness without harness/policy.py")
    assert predates_trust_root(root, "HEAD")
    write_files(root, {"harness/policy.py": "Y = 2\n"})
    commit(root, "the trust root")
    assert not predates_trust_root(root, "HEAD")
