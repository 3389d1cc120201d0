"""The research ledger for humans: summary figures, ``progress.png``, a Markdown report, rich tables.

Everything here reads a ``Ledger`` and returns a value (a dict, a path, text, a rich renderable);
nothing prints, so ``harness research report`` and ``harness research status`` (and its
``rich.live.Live`` display) decide where output goes. The report is for people, so it shows the
held-out test scores that proposers never see; it leaves out diffs and hypotheses, which stay in
``research.jsonl``.

"Better" follows the objective's direction (``meta.json``'s ``objective``); the baseline score is
the mean over the baseline seeds, and the best is the best kept experiment (the baseline while
nothing is kept). Overhead is an experiment's wall time outside training (``total_s -
training_seconds``: proposing, gates, start-up, evaluation), over the experiments that trained.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.research.ledger import STATUSES, Ledger
from harness.research.settings import Objective

USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
STATUS_STYLES = {"keep": "bold green", "discard": "dim", "crash": "red", "reject": "yellow"}
ELLIPSIS = "…"


@dataclass(frozen=True)
class ProgressStyle:
    """How ``progress.png`` looks; its size in pixels is ``width_in x dpi`` by ``height_in x dpi``."""

    width_in: float = 12.0
    height_in: float = 5.0
    dpi: int = 100
    label_chars: int = 40  # kept descriptions longer than this are cut, with an ellipsis
    # Scores worse than the baseline by more than this many times the larger of the best gain
    # and the noise margin (diverged runs) are drawn at the plot's edge, so they don't flatten it.
    worse_span: float = 4.0


def summary(ledger: Ledger) -> dict[str, Any]:
    """The ledger's headline figures (see the module docstring for what each one means)."""
    meta = ledger.meta
    objective = _objective(meta)
    experiments = ledger.records("experiment")
    baselines = ledger.records("baseline")
    counts = {status: sum(r.get("status") == status for r in experiments) for status in STATUSES}
    noise = meta.get("noise", {})
    baseline_score = _mean([_number(r.get("score")) for r in baselines])
    if baseline_score is None:
        baseline_score = _number(noise.get("mean"))
    baseline_commit = baselines[0].get("commit", "") if baselines else meta.get("base_commit", "")
    baseline_test = _mean([_number(r.get("test_score")) for r in baselines])
    best = _best_keep(experiments, objective) or {}
    best_score = _number(best.get("score")) if best else baseline_score
    usage = {f: int(sum(_number(_usage(r).get(f)) or 0 for r in experiments)) for f in USAGE_FIELDS}
    overheads = [_overhead(r) for r in experiments]
    overheads = [o for o in overheads if o is not None]
    return {
        "tag": meta.get("tag", ""),
        "objective": objective.key,
        "direction": objective.direction,
        "experiments": len(experiments),
        "keeps": counts["keep"],
        "discards": counts["discard"],
        "crashes": counts["crash"],
        "rejects": counts["reject"],
        "baseline_score": baseline_score,
        "baseline_commit": baseline_commit,
        "margin": _number(noise.get("margin")),
        "best_score": best_score,
        "best_commit": best.get("commit", baseline_commit),
        "best_id": best.get("id", ""),
        "best_description": best.get("description", "baseline"),
        "gain": _gain(objective, best_score, baseline_score),
        "baseline_test_score": baseline_test,
        "best_test_score": _number(best.get("test_score")) if best else baseline_test,
        **usage,
        "tokens": sum(usage.values()),
        "usd": sum(_number(_usage(r).get("usd")) or 0.0 for r in experiments),
        "requests": int(sum(_number(_usage(r).get("requests")) or 0 for r in experiments)),
        "overhead_s": statistics.median(o[0] for o in overheads) if overheads else None,
        "overhead_share": statistics.median(o[1] for o in overheads) if overheads else None,
    }


def progress_png(ledger: Ledger, path: str | Path, style: ProgressStyle | None = None) -> Path:
    """``progress.png``: each experiment's score, the running best, kept changes, the noise band."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    style = style or ProgressStyle()
    facts = summary(ledger)
    objective = _objective(ledger.meta)
    experiments = ledger.records("experiment")
    baseline, margin = facts["baseline_score"], facts["margin"] or 0.0
    figure = Figure(figsize=(style.width_in, style.height_in), dpi=style.dpi)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    if baseline is not None:
        axes.axhspan(
            baseline - margin,
            baseline + margin,
            color="tab:blue",
            alpha=0.12,
            label=f"noise band (baseline {baseline:.4f} ± {margin:.4f})",
        )
    edge = _worse_edge(objective, baseline, facts["best_score"], margin, style.worse_span)
    groups = _point_groups(experiments, objective, baseline, edge)
    marker_off = "^" if objective.direction == "min" else "v"
    _scatter(axes, groups["discard"], "o", "0.6", 16, f"discard ({len(groups['discard'])})")
    _scatter(
        axes, groups["off"], marker_off, "0.6", 24, f"discard off-scale ({len(groups['off'])})"
    )
    _scatter(axes, groups["none"], "x", "tab:red", 18, f"crash / reject ({len(groups['none'])})")
    _scatter(axes, groups["keep"], "o", "tab:green", 60, f"keep ({len(groups['keep'])})")
    steps = _running_best(experiments, objective, baseline)
    if steps:
        xs, ys = zip(*steps, strict=True)
        axes.step(xs, ys, where="post", color="tab:green", linewidth=1.5, label="running best")
    for turn, (number, score, description) in enumerate(groups["keep"]):
        # Labels alternate above and below their points (in points), so neighbours overlap less.
        offset = (6, 8) if turn % 2 == 0 else (6, -12)
        axes.annotate(
            _truncate(description, style.label_chars),
            (number, score),
            xytext=offset,
            textcoords="offset points",
            fontsize=8,
            color="darkgreen",
        )
    better = "lower" if objective.direction == "min" else "higher"
    axes.set(
        xlabel="experiment",
        ylabel=f"{objective.key} ({better} is better)",
        title=f"research {facts['tag']}: {facts['experiments']} experiments, {facts['keeps']} kept",
    )
    axes.set_xlim(0, len(experiments) + 0.5)  # room right of the last point for its label
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    return Path(path)


def markdown(ledger: Ledger, png_name: str = "progress.png") -> str:
    """The report: summary, kept changes, every experiment, scale checks and promotions."""
    facts, meta = summary(ledger), ledger.meta
    key = facts["objective"]
    lines = [
        f"# Research `{facts['tag']}`",
        "",
        f"Branch `{meta.get('branch', '')}` from `{str(meta.get('base_commit', ''))[:7]}`; "
        f"objective `{key}` ({'lower' if facts['direction'] == 'min' else 'higher'} is better).",
        "",
        "## Summary",
        "",
        *_table(("", ""), _summary_rows(facts)),
        "",
        f"![progress]({png_name})",
        "",
        "## Kept changes",
        "",
    ]
    experiments = ledger.records("experiment")
    kept = [r for r in experiments if r.get("status") == "keep"]
    if kept:
        headers = (
            "id",
            "commit",
            "description",
            key,
            "gain",
            "margin",
            "confidence",
            f"test {key}",
        )
        lines += _table(headers, [_kept_row(r) for r in kept])
    else:
        lines.append("Nothing kept yet.")
    lines += ["", "## All experiments", ""]
    rows = [
        (
            r.get("id", ""),
            r.get("status", ""),
            _fmt(r.get("score")),
            r.get("description", ""),
            r.get("reason", ""),
        )
        for r in experiments
    ]
    lines += _table(("id", "status", key, "description", "reason"), rows) if rows else ["None yet."]
    scales = ledger.records("scale")
    if scales:
        headers = ("depth", f"base {key}", f"stack {key}", "gain", "margin", "transfers", "commit")
        lines += ["", "## Scale checks", ""]
        lines += _table(headers, [_scale_row(r) for r in scales])
    promotions = ledger.records("promote")
    if promotions:
        headers = (
            "depth",
            "mode",
            "commit",
            "description",
            key,
            f"base {key}",
            "gain",
            "margin",
            "transfers",
        )
        lines += ["", "## Promotions", ""]
        lines += _table(headers, [_promote_row(r) for r in promotions])
    return "\n".join(lines) + "\n"


def status_table(ledger: Ledger, last: int = 20):
    """A rich ``Table`` of the last ``last`` experiments, newest last."""
    from rich.table import Table
    from rich.text import Text

    experiments = ledger.records("experiment")
    shown = experiments[-last:] if last > 0 else []
    key = _objective(ledger.meta).key
    table = Table(
        title=f"last {len(shown)} of {len(experiments)} experiments", title_justify="left"
    )
    for name, justify in (
        ("id", "left"),
        ("worker", "right"),
        ("status", "left"),
        (key, "right"),
        ("gain", "right"),
        ("seconds", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)
    # Wrappable columns are the ones rich narrows first on a small terminal; their cells are
    # one-line Texts, so narrowing cuts them with an ellipsis instead of wrapping the row.
    table.add_column("description", max_width=48)
    table.add_column("reason", max_width=36)
    for record in shown:
        status = str(record.get("status", ""))
        total = _number(record.get("timings", {}).get("total_s"))
        table.add_row(
            str(record.get("id", "")),
            str(record.get("worker", "")),
            Text(status, style=STATUS_STYLES.get(status, "")),
            _fmt(record.get("score")),
            _fmt(record.get("decision", {}).get("gain"), signed=True),
            "-" if total is None else f"{total:.0f}",
            _one_line_text(record.get("description", "")),
            _one_line_text(record.get("reason", "")),
        )
    return table


def _one_line_text(value: Any):
    from rich.text import Text

    return Text(" ".join(str(value).split()), no_wrap=True, overflow="ellipsis")


def status_renderable(ledger: Ledger, last: int = 20):
    """What ``harness research status`` shows: the summary line above ``status_table``."""
    from rich.console import Group
    from rich.text import Text

    return Group(Text(summary_line(summary(ledger))), status_table(ledger, last))


def summary_line(facts: dict[str, Any]) -> str:
    """One line of ``summary``: counts, best against baseline, spend, overhead."""
    counts = ", ".join(f"{facts[plural]} {status}" for status, plural in _PLURALS.items())
    parts = [f"{facts['tag']}: {facts['experiments']} experiments ({counts})"]
    if facts["best_score"] is not None:
        parts.append(
            f"best {facts['objective']} {_fmt(facts['best_score'])} "
            f"({_fmt(facts['gain'], signed=True)} vs baseline {_fmt(facts['baseline_score'])})"
        )
    parts.append(f"${facts['usd']:.2f}, {facts['tokens']:,} tokens")
    if facts["overhead_s"] is not None:
        parts.append(f"overhead {facts['overhead_s']:.0f} s ({facts['overhead_share']:.0%})")
    return " | ".join(parts)


_PLURALS = {"keep": "keeps", "discard": "discards", "crash": "crashes", "reject": "rejects"}


def _summary_rows(facts: dict[str, Any]) -> list[tuple[str, str]]:
    key = facts["objective"]
    counts = ", ".join(f"{facts[plural]} {status}" for status, plural in _PLURALS.items())
    overhead = (
        "-"
        if facts["overhead_s"] is None
        else f"{facts['overhead_s']:.1f} s median ({facts['overhead_share']:.0%} of the experiment)"
    )
    return [
        ("experiments", f"{facts['experiments']} ({counts})"),
        (f"baseline {key}", f"{_fmt(facts['baseline_score'])} at `{facts['baseline_commit'][:7]}`"),
        (f"best {key}", f"{_fmt(facts['best_score'])} at `{facts['best_commit'][:7]}`"),
        ("gain", _fmt(facts["gain"], signed=True)),
        ("noise margin", _fmt(facts["margin"])),
        (
            f"test {key}: baseline, best",
            f"{_fmt(facts['baseline_test_score'])}, {_fmt(facts['best_test_score'])}",
        ),
        (
            "proposer",
            f"{facts['tokens']:,} tokens, ${facts['usd']:.2f}, {facts['requests']} requests",
        ),
        ("overhead per experiment", overhead),
    ]


def _kept_row(record: dict) -> tuple[str, ...]:
    decision = record.get("decision", {})
    return (
        str(record.get("id", "")),
        f"`{str(record.get('commit', ''))[:7]}`",
        str(record.get("description", "")),
        _fmt(record.get("score")),
        _fmt(decision.get("gain"), signed=True),
        _fmt(decision.get("margin")),
        _fmt(decision.get("confidence"), digits=2),
        _fmt(record.get("test_score")),
    )


def _scale_row(record: dict) -> tuple[str, ...]:
    return (
        str(record.get("depth", "")),
        _fmt(record.get("base_score")),
        _fmt(record.get("stack_score")),
        _fmt(record.get("gain"), signed=True),
        _fmt(record.get("margin")),
        "yes" if record.get("transfers") else "no",
        f"`{str(record.get('commit', ''))[:7]}`",
    )


def _promote_row(record: dict) -> tuple[str, ...]:
    return (
        str(record.get("depth", "")),
        str(record.get("mode", "")),
        f"`{str(record.get('commit', ''))[:7]}`",
        str(record.get("description", "")),
        _fmt(record.get("score")),
        _fmt(record.get("base_score")),
        _fmt(record.get("gain"), signed=True),
        _fmt(record.get("margin")),
        "yes" if record.get("transfers") else "no",
    )


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """A Markdown table; pipes and newlines inside cells are escaped so rows stay rows."""

    def cell(value: Any) -> str:
        return " ".join(str(value).split()).replace("|", "\\|")

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(map(cell, row)) + " |" for row in rows]


def _point_groups(experiments: list[dict], objective: Objective, baseline, edge) -> dict:
    """(experiment number, y, description) per marker: keep, discard, off-scale, no score."""
    groups: dict[str, list[tuple[int, float, str]]] = {
        "keep": [],
        "discard": [],
        "off": [],
        "none": [],
    }
    for number, record in enumerate(experiments, start=1):
        score, status = _number(record.get("score")), record.get("status")
        description = str(record.get("description", ""))
        if score is None or status in ("crash", "reject"):
            if baseline is not None:  # drawn at the baseline level; without one, only counted
                groups["none"].append((number, baseline, description))
        elif status == "keep":
            groups["keep"].append((number, score, description))
        elif edge is not None and objective.gain(score, edge) < 0:
            groups["off"].append((number, edge, description))
        else:
            groups["discard"].append((number, score, description))
    return groups


def _scatter(axes, points: list[tuple[int, float, str]], marker: str, color: str, size, label: str):
    if points:
        xs, ys, _ = zip(*points, strict=True)
        axes.scatter(xs, ys, marker=marker, color=color, s=size, label=label, zorder=3)


def _running_best(experiments: list[dict], objective: Objective, baseline: float | None):
    """(experiment number, best so far) from 0 (the baseline) to the last experiment."""
    if baseline is None:
        return []
    best, steps = baseline, [(0, baseline)]
    for number, record in enumerate(experiments, start=1):
        score = _number(record.get("score"))
        if record.get("status") == "keep" and score is not None and objective.gain(score, best) > 0:
            best = score
        steps.append((number, best))
    return steps


def _worse_edge(objective: Objective, baseline, best, margin: float, span: float) -> float | None:
    """The worst score drawn where it is; worse ones are clipped to it."""
    if baseline is None:
        return None
    reach = span * max(abs(baseline - best) if best is not None else 0.0, margin)
    if reach <= 0:
        return None
    return baseline + reach if objective.direction == "min" else baseline - reach


def _best_keep(experiments: list[dict], objective: Objective) -> dict | None:
    best = None
    for record in experiments:
        score = _number(record.get("score"))
        if record.get("status") != "keep" or score is None:
            continue
        if best is None or objective.gain(score, best["score"]) > 0:
            best = record
    return best


def _objective(meta: dict) -> Objective:
    raw = meta.get("objective") or {}
    return Objective(key=raw.get("key", "val_bpb"), direction=raw.get("direction", "min"))


def _gain(objective: Objective, candidate, reference) -> float | None:
    if candidate is None or reference is None:
        return None
    return objective.gain(candidate, reference)


def _overhead(record: dict) -> tuple[float, float] | None:
    """(seconds outside training, their share of the wall time), for an experiment that trained."""
    timings = record.get("timings") or {}
    total, training = _number(timings.get("total_s")), _number(timings.get("training_seconds"))
    if total is None or training is None or training <= 0 or total <= 0:
        return None
    return total - training, (total - training) / total


def _usage(record: dict) -> dict:
    return record.get("usage") or {}


def _number(value: Any) -> float | None:
    """``value`` when it is a finite number (JSON nulls and NaN scores mean "no score")."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def _fmt(value: Any, signed: bool = False, digits: int = 6) -> str:
    number = _number(value)
    if number is None:
        return "-"
    return f"{number:+.{digits}f}" if signed else f"{number:.{digits}f}"


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS
