"""The ``harness`` command line: parse arguments, call one function, print, exit.

Exit codes: 0 clean, 1 findings at or above the failing severity, 2 usage or internal error.
Every failure is one ``error: ...`` line: ``HarnessGroup.main`` turns a bad argument (click's
usage errors), a ``HarnessError`` (its class carries the exit code) and an unexpected crash
into that line; no command has its own try/except. Heavy modules are imported inside the
commands so that ``harness check --fast`` starts quickly.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from harness.report import FORMATS
from harness.research_cli import research

SEVERITIES = ("error", "warning", "info")


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class HarnessGroup(click.Group):
    """The command group whose every failure is one line with the exit code it carries."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):  # noqa: ARG002
        from harness.errors import HarnessError

        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as err:
            where = f"; run `{err.ctx.command_path} --help`" if err.ctx else ""
            _fail(f"{err.format_message().rstrip('.')}{where}", err.exit_code)
        except click.ClickException as err:
            _fail(err.format_message(), err.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except HarnessError as err:
            _fail(str(err), err.exit_code)
        except OSError as err:
            _fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
        except Exception as err:
            if os.environ.get("HARNESS_TRACEBACK"):
                raise
            _fail(f"internal error: {type(err).__name__}: {err}; rerun with HARNESS_TRACEBACK=1")
        sys.exit(code if isinstance(code, int) else 0)


def _root(root: str | None) -> Path:
    from harness.check import find_root

    return Path(root).absolute() if root else find_root(Path.cwd())


@click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="harness-nanochat", prog_name="harness")
def main() -> None:
    """Checks, rules and gates for the nanochat repository."""


main.add_command(research)


@main.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--fast",
    is_flag=True,
    help="Pre-commit tier: format, ruff, rules, protected on files changed vs HEAD.",
)
@click.option(
    "--gate", "gates", multiple=True, metavar="ID", help="Run only this gate (repeatable)."
)
@click.option(
    "--base",
    metavar="REF",
    help="Only files changed against REF (plus untracked); diff base for gates.",
)
@click.option(
    "--changed",
    is_flag=True,
    help="Only files changed against --base (default HEAD) plus untracked.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output", type=click.Path(dir_okay=False), help="Write the report here instead of stdout."
)
@click.option(
    "--json-output", type=click.Path(dir_okay=False), help="Also write the json report here."
)
@click.option(
    "--fix", is_flag=True, help="Apply safe fixes; exit 1 while unfixable findings remain."
)
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply fixes that may change behaviour (implies --fix).",
)
@click.option(
    "--severity", type=click.Choice(SEVERITIES), help="Fail on findings at or above this level."
)
@click.option(
    "--maintainer-approval",
    metavar="TEXT",
    default="",
    help="With --base: a maintainer approved this change's own policy (who and how). Set only "
    "by the hosted workflow from a maintainer-only signal; see architecture/trust.md.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True),
    help="Repository root (default: found from cwd).",
)
def check(
    paths: tuple[str, ...],
    fast: bool,
    gates: tuple[str, ...],
    base: str | None,
    changed: bool,
    fmt: str,
    output: str | None,
    json_output: str | None,
    fix: bool,
    unsafe_fixes: bool,
    severity: str | None,
    maintainer_approval: str,
    root: str | None,
) -> None:
    """Run the gates and report their findings."""
    from harness.check import CheckRequest, run_check

    for option, path in (("--output", output), ("--json-output", json_output)):
        _check_writable(option, path)
    request = CheckRequest(
        paths=paths,
        fast=fast,
        gates=gates,
        base=base,
        changed=changed,
        fix=fix or unsafe_fixes,
        unsafe_fixes=unsafe_fixes,
        severity=severity,
        maintainer_approval=maintainer_approval,
    )
    repo = _root(root)
    report = run_check(repo, request)
    rendered = _render(fmt, report, repo)
    if json_output:
        Path(json_output).write_text(_render("json", report, repo).text, encoding="utf-8")
    if rendered.step_summary is not None:
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(rendered.step_summary)
    if output:
        Path(output).write_text(rendered.text, encoding="utf-8")
    else:
        click.echo(rendered.text, nl=False)
    sys.exit(0 if report.ok else 1)


def _check_writable(option: str, path: str | None) -> None:
    """Refuse an output path whose folder is missing before any gate runs."""
    from harness.errors import HarnessError

    if path is None:
        return
    folder = Path(path).absolute().parent
    if not folder.is_dir():
        raise HarnessError(f"{option} {path}: folder {folder} does not exist; create it first")


def _render(fmt: str, report, repo: Path):
    from harness import __version__
    from harness.config import load_settings
    from harness.report import RenderContext, render

    rules_meta = {}
    if fmt == "sarif":
        from harness.catalog import sarif_rule_meta

        rules_meta = sarif_rule_meta({f.rule for f in report.findings})
    context = RenderContext(
        rules=rules_meta,
        read_line=_line_reader(repo),
        limit=load_settings(repo).text_limit,
        tool_version=__version__,
        has_step_summary=bool(os.environ.get("GITHUB_STEP_SUMMARY")),
    )
    return render(fmt, report, context)


def _line_reader(repo: Path):
    files: dict[str, list[str] | None] = {}

    def read_line(path: str, line: int) -> str | None:
        if path not in files:
            try:
                files[path] = (repo / path).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                files[path] = None
        lines = files[path]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else None

    return read_line


@main.command()
@click.argument("code")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def explain(code: str, fmt: str) -> None:
    """Show a rule's or gate code's docs and golden examples."""
    from harness.catalog import explain as explain_code
    from harness.catalog import explain_text

    entry = explain_code(code, _root(None))
    click.echo(
        json.dumps(entry, indent=2, ensure_ascii=False) if fmt == "json" else explain_text(entry),
        nl=fmt == "json",
    )


@main.command(name="rules")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
def list_rules(fmt: str) -> None:
    """List every rule: code, name, severity, fixable, summary."""
    from harness.catalog import rules_markdown, rules_table, rules_text

    entries = rules_table()
    if fmt == "json":
        fields = ("code", "name", "severity", "fixable", "summary")
        click.echo(
            json.dumps([{k: e[k] for k in fields} for e in entries], indent=2, ensure_ascii=False)
        )
    else:
        click.echo(rules_markdown(entries) if fmt == "markdown" else rules_text(entries), nl=False)


@main.command()
@click.option("--prune", is_flag=True, help="Only drop entries that no longer occur (never add).")
def baseline(prune: bool) -> None:
    """Record the current rule findings in the baseline file (--prune: only shrink it)."""
    from harness.config import load_settings
    from harness.lint.baseline import update_baseline

    repo = _root(None)
    settings = load_settings(repo)
    before, after = update_baseline(repo, settings, prune)
    click.echo(f"{settings.baseline}: {before} -> {after} entries")


@main.group()
def bench() -> None:
    """Outcome benchmarks: step time and MFU, time to a target quality."""


def _emit(text: str, output: str | None) -> None:
    _check_writable("--output", output)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=not text.endswith("\n"))


@bench.command(name="step")
@click.option("--depth", type=int)
@click.option("--sequence-len", type=int)
@click.option("--device-batch-size", type=int)
@click.option("--grad-accum", type=int, help="Micro-batches per optimizer step.")
@click.option("--vocab-size", type=int)
@click.option("--window-pattern")
@click.option("--device", help="cuda, cuda:N, mps or cpu (default: autodetect).")
@click.option("--dtype", help="bfloat16 or float32 (default: bf16 on CUDA, fp32 elsewhere).")
@click.option("--compile/--no-compile", "compile_", default=None, help="torch.compile the model.")
@click.option("--warmup-steps", type=int, help="Untimed steps first (compile included).")
@click.option("--rounds", type=int, help="Timed rounds (default 10).")
@click.option("--steps-per-round", type=int)
@click.option("--seed", type=int)
@click.option("--threads", type=int, help="torch CPU threads (0: torch's default).")
@click.option(
    "--data", type=click.Choice(["real", "synthetic"]), help="Prepared shards or random tokens."
)
@click.option(
    "--compare",
    "ref",
    metavar="REF",
    help="Time REF's nanochat against the working tree, interleaved.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report here.")
def bench_step_command(ref: str | None, fmt: str, output: str | None, compile_, **given) -> None:
    """Time forward + backward + optimizer steps of the real model: ms/step, tok/s, MFU, memory."""
    from dataclasses import fields

    from harness.bench.render import render_compare_text, render_text
    from harness.bench.step import StepBench, bench_step
    from harness.errors import HarnessError

    given["compile"] = compile_
    known = {f.name for f in fields(StepBench)}
    chosen = {k: v for k, v in given.items() if v is not None and k in known}
    bench_config = StepBench(**chosen)
    if ref:
        from harness.bench.compare import compare_step
        from harness.check import find_root

        result = compare_step(find_root(Path.cwd()), ref, bench_config)
        render = render_compare_text
    else:
        result = bench_step(bench_config)
        render = render_text
    if not isinstance(result, dict):
        raise HarnessError("bench step returned no result")
    _emit(json.dumps(result, indent=2) + "\n" if fmt == "json" else render(result), output)


@bench.command(name="ttt")
@click.option("--preset", default="cpu", show_default=True, help="cpu, or gpt2 (8 GPUs, CORE).")
@click.option("--target-val-bpb", type=float, help="Stop at the first evaluation at or below this.")
@click.option("--target-core", type=float, help="Stop at the first CORE at or above this.")
@click.option(
    "--compare", type=click.Choice(["gpt2-baseline"]), help="Also train the GPT-2 recipe."
)
@click.option("--parquet-dir", default="", help="FineWeb-style parquet shards (gpt2 preset).")
@click.option("--core-bundle", default="", help="CORE eval bundle folder (for --target-core).")
@click.option("--out", "out_dir", default="runs/ttt", show_default=True, help="Curve, PNG, logs.")
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (tokens, steps, time); train nothing."
)
@click.option("--measured-ms-per-step", type=float, help="For --dry-run: estimate from this.")
@click.option("--timeout-s", type=float, help="Cap each run (default: the preset's).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report here.")
@click.argument("extra_flags", nargs=-1)
def bench_ttt_command(
    preset: str,
    target_val_bpb: float | None,
    target_core: float | None,
    compare: str | None,
    parquet_dir: str,
    core_bundle: str,
    out_dir: str,
    dry_run: bool,
    measured_ms_per_step: float | None,
    timeout_s: float | None,
    fmt: str,
    output: str | None,
    extra_flags: tuple[str, ...],
) -> None:
    """Train through python -m nanochat.train until a target val_bpb (or CORE); time it.

    EXTRA_FLAGS after `--` go to the trainer (e.g. `-- --depth 4`)."""
    from harness.bench.presets import format_plan, plan
    from harness.bench.ttt import format_result, time_to_target

    targets = {"target_val_bpb": target_val_bpb, "target_core": target_core}
    if dry_run:
        result = plan(
            preset,
            measured_ms_per_step,
            compare=compare is not None,
            parquet_dir=parquet_dir,
            core_bundle=core_bundle,
            extra_flags=list(extra_flags),
            **targets,
        )
        text = format_plan(result)
    else:
        result = time_to_target(
            out_dir,
            preset,
            compare=compare,
            parquet_dir=parquet_dir,
            core_bundle=core_bundle,
            extra_flags=extra_flags,
            timeout_s=timeout_s,
            **targets,
        )
        text = format_result(result)
    _emit(json.dumps(result, indent=2) + "\n" if fmt == "json" else text, output)


@main.group()
def protect() -> None:
    """Manage the manifest of sealed files."""


@protect.command()
@click.option(
    "--reason", required=True, help="Why the sealed files changed (recorded in the manifest)."
)
@click.option("--who", help="Who approves (default: git user.name).")
@click.option(
    "--acknowledge",
    "acknowledged",
    multiple=True,
    metavar="PATH",
    help="Also accept this test file's deliberate weakening (test-integrity findings).",
)
def approve(reason: str, who: str | None, acknowledged: tuple[str, ...]) -> None:
    """Re-seal the manifest after an intended change; counts with --base only when a maintainer
    commits the lock with their signature (architecture/trust.md)."""
    from harness.protect import approve as approve_manifest

    changed = approve_manifest(_root(None), reason, who, acknowledged)
    for path in changed:
        click.echo(f"approved {path}")
    click.echo(f"manifest approved ({len(changed)} changed paths)")


if __name__ == "__main__":
    main()
