"""One trial: train a candidate commit in a subprocess, then score it; the unit a launcher runs.

**Sealed objective** (the default): the trainer runs from the candidate's tree behind the audit
hook (``dataview.audited_train_command``) with NANOCHAT_BASE_DIR at a training view that has no
val split, ``--eval-every 0`` (it never evaluates; it prints ``val_bpb: nan``) and a checkpoint
dir; then the sealed evaluator (``sealed_eval``) scores the checkpoint in a second process.
**Command objective**: ``objective.command`` runs with ``sh -c`` in the tree (HARNESS_SEED,
HARNESS_BUDGET_S, HARNESS_NUM_STEPS and HARNESS_RUN_DIR in its environment) and the score is its
``KEY: value`` line.

Each process runs in a session of its own, is killed with its whole process group at
``timeout_s`` (train and eval each get the full limit), and dies with the harness (see
``dataview.child_prelude``). ``TrialResult.status`` is one of ``STATUSES``; the first check that
fails decides it, in this order: tamper (pinned files changed), leak (training touched validation
data), timeout, oom, nan, crash, then after scoring tamper/crash from the evaluator, nan (a
non-finite score), acausal (the causality probe), fake-summary (the trainer printed a finite
val_bpb more than ``SUMMARY_TOLERANCE`` away from the sealed one). ``score`` and ``test_score``
are set only when the status is ok. Results are plain data, so they pickle (submitit, Ray).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.research import dataview, sealed_eval
from harness.research.settings import Objective

STATUSES = ("ok", "crash", "timeout", "nan", "oom", "leak", "acausal", "fake-summary", "tamper")
# A trainer that evaluates despite --eval-every 0 scores other val batches at its own batch size
# and dtype: on the tiny CPU run its honest val_bpb was 4.318 against a sealed dev 4.265 (1.2%;
# the sealed dev and test halves differ by 2.5%). 5% passes that and flags a made-up number.
SUMMARY_TOLERANCE = 0.05
SEALED_KEYS = {"val_bpb": "bpb", "nats_per_token": "nats_per_token"}  # objective key -> BpbResult
LOG_TAIL_LINES = 40
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w.\-]*):\s+(\S.*?)\s*$")
_OOM = re.compile(r"out of memory|OutOfMemoryError|MemoryError", re.IGNORECASE)
_DIVERGED = re.compile(r"is not finite|\bloss:? nan\b", re.IGNORECASE)


@dataclass(frozen=True)
class TrialSpec:
    tree: str  # worktree path whose nanochat/ is the candidate
    run_dir: str  # scratch folder for logs, checkpoint, summaries (created)
    seed: int
    budget_s: float  # --time-budget, used when num_steps <= 0
    num_steps: int  # > 0: --num-steps instead of the budget
    train_args: tuple[str, ...]
    timeout_s: float  # hard timeout per process (train and eval separately)
    objective: Objective
    pinned_dir: str  # from pin_evaluator (holds pinned.json and the pinned nanochat/)
    dev_tokens: int
    test_tokens: int
    eval_batch_size: int = 8
    keep_checkpoint: bool = False
    env: tuple[tuple[str, str], ...] = ()  # extra environment (CUDA_VISIBLE_DEVICES of a slot)
    device: str = ""  # passed as --device when set


@dataclass(frozen=True)
class TrialResult:
    status: str  # one of STATUSES
    reason: str  # one line; "" when ok
    score: float | None = None  # dev objective (val_bpb by default); None unless ok
    test_score: float | None = None
    secondary: dict = field(default_factory=dict)  # nats_per_token, test_nats_per_token, ...
    metrics: dict = field(default_factory=dict)  # the trainer's `key: value` summary
    memory_gb: float | None = None  # peak_mem_mb / 1024 (or autoresearch's peak_vram_mb)
    timings: dict = field(default_factory=dict)  # train_s, eval_s, training_seconds, wall_s
    log_tail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Ran:
    returncode: int | None  # None: killed at the timeout
    seconds: float
    output: str


def run_trial(spec: TrialSpec) -> TrialResult:
    """Train and score ``spec``'s candidate; never raises for what the candidate does."""
    start = time.perf_counter()
    run_dir = Path(spec.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    if spec.objective.is_sealed:
        return _sealed_trial(spec, run_dir, start)
    return _command_trial(spec, run_dir, start)


def _sealed_trial(spec: TrialSpec, run_dir: Path, start: float) -> TrialResult:
    if spec.objective.key not in SEALED_KEYS:
        raise HarnessError(
            f"objective key {spec.objective.key!r}: the sealed evaluator measures "
            f"{', '.join(SEALED_KEYS)}; set [tool.harness.research.objective] command to score "
            "by another key"
        )
    pinned = dataview.load_pinned(spec.pinned_dir)
    timings = {"train_s": 0.0, "eval_s": 0.0, "training_seconds": None, "wall_s": 0.0}

    def finish(status: str, reason: str = "", **extra) -> TrialResult:
        timings["wall_s"] = time.perf_counter() - start
        return TrialResult(status, reason, timings=timings, **extra)

    changed = dataview.verify_pinned(pinned)
    if changed:
        return finish("tamper", changed)
    checkpoint = run_dir / "ckpt"
    try:
        train = _train(spec, pinned, run_dir, checkpoint)
        timings["train_s"] = train.seconds
        metrics = parse_summary(train.output)
        written = _summary_json(run_dir)
        claims = [metrics.get("val_bpb"), written.get("val_bpb")]  # printed, then --summary-json
        metrics.update({k: v for k, v in written.items() if k not in metrics})
        timings["training_seconds"] = metrics.get("training_seconds")
        trained = {
            "metrics": metrics,
            "memory_gb": memory_gb(metrics),
            "log_tail": tail(train.output),
        }
        failure = _train_failure(train, run_dir, spec.timeout_s, checkpoint)
        if failure:
            return finish(*failure, **trained)
        scored = _evaluate(spec, pinned, run_dir, checkpoint)
        timings["eval_s"] = scored.pop("seconds_", 0.0)
        verdict = _eval_verdict(scored, claims)
        if "dev" in scored:
            trained["secondary"] = _secondary(scored)
        if verdict:
            eval_log = scored.get("log", "")
            trained["log_tail"] += f"\n--- sealed evaluation ---\n{eval_log}" if eval_log else ""
            return finish(*verdict, **trained)
        key = SEALED_KEYS[spec.objective.key]
        return finish("ok", "", score=scored["dev"][key], test_score=scored["test"][key], **trained)
    finally:
        if not spec.keep_checkpoint:
            shutil.rmtree(checkpoint, ignore_errors=True)
        for scratch in ("view", "eval_tree"):
            shutil.rmtree(run_dir / scratch, ignore_errors=True)


def _train(spec: TrialSpec, pinned: dict, run_dir: Path, checkpoint: Path) -> _Ran:
    audit = run_dir / "audit.log"
    for stale in (audit, run_dir / "summary.json"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(checkpoint, ignore_errors=True)
    view = dataview.training_view(pinned, run_dir / "view")
    argv = dataview.audited_train_command(audit, dataview.watched_paths(pinned))
    argv += [*spec.train_args, "--seed", str(spec.seed), "--eval-every", "0"]
    argv += ["--checkpoint-dir", str(checkpoint), "--summary-json", str(run_dir / "summary.json")]
    if spec.num_steps > 0:
        argv += ["--num-steps", str(spec.num_steps)]
    else:
        argv += ["--time-budget", f"{spec.budget_s:g}"]
    argv += ["--device", spec.device] if spec.device else []
    env = {"PYTHONPATH": str(Path(spec.tree).resolve()), "NANOCHAT_BASE_DIR": str(view)}
    if not pinned["data"].get("parquet_dir"):
        env["NANOCHAT_CORPUS_DIR"] = pinned["data"]["corpus_dir"]  # the corpus id names the shards
    return run_process(
        argv, Path(spec.tree), _environment(spec, env), run_dir / "train.log", spec.timeout_s
    )


def _train_failure(
    ran: _Ran, run_dir: Path, timeout_s: float, checkpoint: Path
) -> tuple[str, str] | None:
    """(status, reason) when training already decides the trial, else None."""
    audit = run_dir / "audit.log"
    touched = audit.read_text(encoding="utf-8").splitlines() if audit.is_file() else []
    if touched:
        return "leak", f"training read validation data: {touched[0].partition(' ')[2]}"
    failure = _process_failure(ran, "training", timeout_s)
    if failure:
        return failure
    if "---" not in (line.strip() for line in ran.output.splitlines()):
        return "crash", "the trainer exited 0 without printing its `---` summary"
    if not any(checkpoint.glob("step_*/model.pt")):
        return (
            "crash",
            f"the trainer wrote no checkpoint under {checkpoint}; keep --checkpoint-dir working",
        )
    return None


def _process_failure(ran: _Ran, what: str, timeout_s: float) -> tuple[str, str] | None:
    if ran.returncode is None:
        return "timeout", f"{what} ran past its {timeout_s:g} s timeout"
    if ran.returncode == 0:
        return None
    last = last_error_line(ran.output)
    if _OOM.search(ran.output):
        return "oom", f"{what} ran out of memory: {last}"
    if _DIVERGED.search(ran.output):
        return "nan", f"{what} diverged: {last}"
    return "crash", f"{what} exited with status {ran.returncode}: {last}"


def _evaluate(spec: TrialSpec, pinned: dict, run_dir: Path, checkpoint: Path) -> dict:
    """The evaluator's result dict (plus ``seconds_`` and, on failure, ``log``)."""
    tree = sealed_eval.build_eval_tree(
        Path(spec.tree), Path(spec.pinned_dir), run_dir / "eval_tree"
    )
    out = run_dir / sealed_eval.RESULT_FILE
    out.unlink(missing_ok=True)
    argv = sealed_eval.sealed_eval_command() + sealed_eval.eval_args(
        Path(spec.pinned_dir).resolve(), checkpoint, out, spec.dev_tokens, spec.test_tokens,
        spec.eval_batch_size, spec.device,
    )  # fmt: skip
    env = {
        "PYTHONPATH": str(tree),
        "NANOCHAT_BASE_DIR": pinned["base_dir"],
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    nonce = secrets.token_hex(16)
    ran = run_process(
        argv, run_dir, _environment(spec, env), run_dir / "eval.log", spec.timeout_s, nonce
    )
    failure = _process_failure(ran, "the sealed evaluation", spec.timeout_s)
    try:
        result = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        kind, reason = failure or ("crash", "the sealed evaluator exited 0 without a result")
        log = tail(ran.output)
        return {
            "error": reason,
            "kind": kind,
            "is_worded": True,
            "seconds_": ran.seconds,
            "log": log,
        }
    if result.get("nonce") != nonce:
        result = {"error": f"{out}: not written by the sealed evaluator", "kind": "tamper"}
    result["seconds_"] = ran.seconds
    if "error" in result:
        result["log"] = tail(ran.output)
    return result


def _eval_verdict(scored: dict, claims: list) -> tuple[str, str] | None:
    """(status, reason) from the evaluator's result and the trainer's own val_bpb claims."""
    if "error" in scored:
        kind = scored.get("kind", "crash")
        if scored.get("is_worded") or kind == "tamper":
            return kind, scored["error"]  # these reasons already say what happened
        if _OOM.search(scored["error"]):
            kind = "oom"
        return kind, f"sealed evaluation: {scored['error']}"
    measured = scored["dev"]["bpb"]
    if not math.isfinite(measured):
        return "nan", f"the sealed evaluator measured a non-finite val_bpb ({measured})"
    causality = scored["causality"]
    if not causality["ok"]:
        return "acausal", (
            f"logits at positions <= t changed by {causality['max_diff']:.3g} when only later "
            f"tokens changed (tolerance {causality['tolerance']:g}); the model sees the future"
        )
    for claimed in claims:
        is_number = isinstance(claimed, float) and math.isfinite(claimed)
        if is_number and abs(claimed - measured) > SUMMARY_TOLERANCE * abs(measured):
            return "fake-summary", (
                f"the trainer printed val_bpb {claimed:g}; the sealed evaluator measured {measured:.6g}"
            )
    return None


def _secondary(scored: dict) -> dict:
    dev, test = scored["dev"], scored["test"]
    return {
        "nats_per_token": dev["nats_per_token"],
        "test_nats_per_token": test["nats_per_token"],
        "dev_tokens": dev["tokens"],
        "test_tokens": test["tokens"],
        "causal_max_diff": scored["causality"]["max_diff"],
    }


def _command_trial(spec: TrialSpec, run_dir: Path, start: float) -> TrialResult:
    argv = [
        sys.executable,
        "-P",
        "-c",
        dataview.child_prelude() + "os.execvp(sys.argv[1], sys.argv[1:])",
    ]
    argv += ["/bin/sh", "-c", spec.objective.command]
    env = {
        "PYTHONPATH": str(Path(spec.tree).resolve()),
        "HARNESS_SEED": str(spec.seed),
        "HARNESS_BUDGET_S": f"{spec.budget_s:g}",
        "HARNESS_NUM_STEPS": str(spec.num_steps),
        "HARNESS_RUN_DIR": str(run_dir),
    }
    ran = run_process(
        argv, Path(spec.tree), _environment(spec, env), run_dir / "run.log", spec.timeout_s
    )
    metrics = parse_summary(ran.output, require_rule=False)
    timings = {
        "train_s": ran.seconds,
        "eval_s": 0.0,
        "training_seconds": metrics.get("training_seconds"),
        "wall_s": time.perf_counter() - start,
    }
    common = {
        "metrics": metrics,
        "memory_gb": memory_gb(metrics),
        "timings": timings,
        "log_tail": tail(ran.output),
    }
    failure = _process_failure(ran, "the objective command", spec.timeout_s)
    if failure:
        return TrialResult(*failure, None, None, **common)
    key = spec.objective.key
    value = metrics.get(key)
    if value is None:
        return TrialResult(
            "crash", f"the objective command printed no `{key}: value` line", None, None, **common
        )
    if not isinstance(value, float):
        return TrialResult(
            "crash",
            f"the objective command printed {key}: {value!r}, not a number",
            None,
            None,
            **common,
        )
    if not math.isfinite(value):
        return TrialResult(
            "nan", f"the objective command printed {key}: {value}", None, None, **common
        )
    return TrialResult("ok", "", value, None, **common)


def _environment(spec: TrialSpec, overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment with ``overrides`` and the spec's extras; unbuffered output."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "PYTHONUNBUFFERED": "1", **overrides, **dict(spec.env)}


def run_process(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    timeout_s: float,
    stdin_text: str = "",
) -> _Ran:
    """Run ``argv`` in a new session, output (stdout and stderr) to ``log_path``; kill its group.

    The whole process group is SIGKILLed at the timeout and again after a normal exit, so
    nothing the child started outlives the trial.
    """
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.PIPE if stdin_text else subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            if stdin_text:
                _send(child, stdin_text)
            returncode: int | None = child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            _kill_group(child.pid)
            child.wait()
    seconds = time.perf_counter() - start
    return _Ran(returncode, seconds, log_path.read_text(encoding="utf-8", errors="replace"))


def _send(child: subprocess.Popen, text: str) -> None:
    try:
        child.stdin.write((text + "\n").encode())
        child.stdin.close()
    except BrokenPipeError:
        pass  # the child exited before reading; its exit status tells the story


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def parse_summary(output: str, require_rule: bool = True) -> dict:
    """``key: value`` lines after the last ``---`` line (numbers as float, else strings).

    Without ``require_rule``, output with no ``---`` line is read whole (a command objective).
    """
    lines = output.splitlines()
    rules = [i for i, line in enumerate(lines) if line.strip() == "---"]
    if not rules and require_rule:
        return {}
    metrics: dict = {}
    for line in lines[rules[-1] + 1 if rules else 0 :]:
        match = _KEY_VALUE.match(line.strip())
        if match:
            metrics[match.group(1)] = _number(match.group(2))
    return metrics


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _summary_json(run_dir: Path) -> dict:
    try:
        raw = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {
        k: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in raw.items()
        if v is not None
    }


def memory_gb(metrics: dict) -> float | None:
    for key in ("peak_mem_mb", "peak_vram_mb"):
        value = metrics.get(key)
        if isinstance(value, float) and math.isfinite(value):
            return value / 1024
    return None


def last_error_line(output: str) -> str:
    """The line that says what went wrong: the last non-empty one, shortened."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def tail(output: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(output.splitlines()[-lines:])
