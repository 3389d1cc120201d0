"""``harness research``: the click commands of the research loop (registered by harness.cli).

Each command parses its options, opens the tag's ``Lab`` and hands off to ``harness.research``;
failures are ``HarnessError`` lines that ``HarnessGroup.main`` prints (exit 2).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import click

LAUNCHERS = ("local", "submitit", "ray")
PROPOSERS = ("anthropic", "offline")

_tag = click.option("--tag", help="Research tag (default: the most recently initialised).")
_root = click.option("--root", type=click.Path(file_okay=False), help="Repository root.")
_workers = click.option(
    "--workers", type=int, default=1, show_default=True, help="Parallel workers (one device each)."
)
_launcher = click.option(
    "--launcher", type=click.Choice(LAUNCHERS), default="local", show_default=True
)


def _repo(root: str | None) -> Path:
    from harness.check import find_root

    return Path(root).absolute() if root else find_root(Path.cwd())


def _launcher_for(name: str, workers: int, folder: Path):
    from harness.research.launchers import make_launcher

    if workers < 1:
        raise click.BadParameter(f"--workers {workers}: use 1 or more")
    return make_launcher(name, workers, folder)


@click.group()
def research() -> None:
    """The autoresearch loop: propose, gate, train, score, keep only real gains."""


@research.command(name="init")
@click.option("--tag", required=True, help="Name of this search (branch research/TAG).")
@click.option("--budget", type=float, help="Training seconds per run (default: settings).")
@click.option("--seeds", type=int, help="Baseline seeds for the noise floor (default: settings).")
@_workers
@_launcher
@_root
def init_command(tag: str, budget, seeds, workers: int, launcher: str, root) -> None:
    """Branch research/TAG at HEAD, pin the evaluator, measure the baseline's noise floor."""
    from harness.research.lab import tag_dir
    from harness.research.loop import init_research
    from harness.research.settings import load_research_settings

    repo = _repo(root)
    settings = load_research_settings(repo)
    if budget is not None:
        settings = dataclasses.replace(settings, budget_s=budget)
    if seeds is not None:
        settings = dataclasses.replace(settings, seeds=seeds)
    pool = _launcher_for(launcher, workers, tag_dir(repo, tag) / launcher)
    try:
        lab = init_research(repo, tag, settings, pool, on_event=click.echo)
    finally:
        pool.close()
    click.echo(f"initialised {lab.branch}; ledger in {lab.directory}")


@research.command(name="run")
@_tag
@click.option(
    "--proposer",
    type=click.Choice(PROPOSERS),
    help="Default: anthropic when ANTHROPIC_API_KEY is set, else offline.",
)
@click.option("--budget", type=float, help="Must equal the budget the tag was initialised with.")
@click.option(
    "--max-experiments", type=int, help="Stop when the ledger holds this many experiments."
)
@_workers
@_launcher
@_root
def run_command(tag, proposer, budget, max_experiments, workers, launcher, root) -> None:
    """Run experiments until --max-experiments, the proposer stops, or Ctrl-C (resumable)."""
    from harness.research.lab import Lab
    from harness.research.loop import run_research

    lab = Lab.open(_repo(root), tag)
    if budget is not None and budget != lab.settings.budget_s:
        raise click.BadParameter(
            f"--budget {budget:g} differs from the {lab.settings.budget_s:g} s tag "
            f"{lab.tag!r} was measured at; init a new tag to change it"
        )
    name = proposer or ("anthropic" if os.environ.get("ANTHROPIC_API_KEY") else "offline")
    pool = _launcher_for(launcher, workers, lab.directory / launcher)
    try:
        state = run_research(
            lab, _proposer_factory(name, lab), pool, max_experiments, on_event=click.echo
        )
    finally:
        pool.close()
    best = lab.best()
    click.echo(
        f"{state['experiments']} experiments, {state['keeps']} kept this run; best "
        f"{lab.settings.objective.key} {best['score']:.6f} at {best['commit'][:10]} "
        f"({state['stopped'] or 'done'})"
    )


def _proposer_factory(name: str, lab):
    if name == "offline":
        from harness.research.offline import OfflineProposer

        return lambda index: OfflineProposer(lab.settings, seed=index)
    from harness.research.anthropic_proposer import AnthropicProposer

    shared = AnthropicProposer(lab.settings)  # one spending cap across workers
    return lambda index: shared


@research.command(name="status")
@_tag
@click.option("--last", type=int, default=20, show_default=True, help="Experiments shown.")
@click.option("--watch", is_flag=True, help="Keep the display live until Ctrl-C.")
@_root
def status_command(tag, last: int, watch: bool, root) -> None:
    """A table of the latest experiments and the search so far."""
    from rich.console import Console
    from rich.live import Live

    from harness.research.lab import Lab
    from harness.research.report import status_renderable

    lab = Lab.open(_repo(root), tag)
    console = Console()
    if not watch:
        console.print(status_renderable(lab.ledger, last=last))
        return
    with Live(
        status_renderable(lab.ledger, last=last), console=console, refresh_per_second=1
    ) as live:
        try:
            while True:
                time.sleep(2)
                live.update(status_renderable(lab.ledger, last=last))
        except KeyboardInterrupt:
            pass


@research.command(name="promote")
@click.option("--to-depth", "depth", type=int, required=True, help="Depth to re-measure at.")
@_tag
@_workers
@_launcher
@_root
def promote_command(depth: int, tag, workers: int, launcher: str, root) -> None:
    """Re-measure each kept change at a larger depth, alone and stacked."""
    from harness.research.lab import Lab
    from harness.research.promote import promote

    lab = Lab.open(_repo(root), tag)
    pool = _launcher_for(launcher, workers, lab.directory / launcher)
    try:
        records = promote(lab, depth, pool, on_event=click.echo)
    finally:
        pool.close()
    transfers = sum(r["transfers"] for r in records if r["mode"] == "stacked")
    click.echo(f"depth {depth}: {transfers} of {len(records) // 2} stacked keeps transfer")


@research.command(name="report")
@_tag
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), help="Folder (default: the tag's)."
)
@_root
def report_command(tag, out_dir, root) -> None:
    """Write report.md and progress.png for the tag."""
    from harness.research.lab import Lab
    from harness.research.report import markdown, progress_png

    lab = Lab.open(_repo(root), tag)
    out = Path(out_dir) if out_dir else lab.directory
    out.mkdir(parents=True, exist_ok=True)
    progress_png(lab.ledger, out / "progress.png")
    (out / "report.md").write_text(markdown(lab.ledger, png_name="progress.png"), encoding="utf-8")
    click.echo(f"wrote {out / 'report.md'} and {out / 'progress.png'}")
