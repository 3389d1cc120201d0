"""CORE-style in-context evaluation over a locally supplied bundle directory (DCLM / nanochat).

Bundle layout: ``core.json`` (or ``core.yaml``) holding ``{"tasks": [...]}``, each task with
``label``, ``task_type`` (multiple_choice | schema | language_modeling), ``num_fewshot``,
``continuation_delimiter``, ``random_baseline`` (percent) and optionally ``data`` (a JSONL path
relative to the bundle; default ``<label>.jsonl``). Items, one JSON object per line:

* multiple_choice: ``query``, ``choices``, ``gold`` -- options share the prompt
  (query + delimiter) and differ in the continuation (the choice).
* schema: ``context_options``, ``continuation``, ``gold`` -- options differ in the prompt
  (context + delimiter) and share the continuation.
* language_modeling: ``context``, ``continuation`` -- correct only when greedy decoding
  reproduces every continuation token.

The scored span of an option is its continuation's tokens. MC and schema items pick the option
with the lowest mean cross-entropy over that span.

Few-shot examples (other items of the same task, joined by blank lines) are drawn with
``random.Random(seed + item index)``, so results are deterministic. Every sequence starts with
BOS and is cropped from the left to ``max_seq_len`` (default: ``model.config.sequence_len`` when
the model has one). Centred accuracy is
``(acc - b) / (1 - b)`` with ``b = random_baseline / 100``; CORE is the mean over tasks.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from nanochat.config import NanochatError

TASK_TYPES = ("multiple_choice", "schema", "language_modeling")
ITEM_KEYS = {
    "multiple_choice": ("query", "choices", "gold"),
    "schema": ("context_options", "continuation", "gold"),
    "language_modeling": ("context", "continuation"),
}
FEWSHOT_SEPARATOR = "\n\n"
DEFAULT_SEED = 1234


@dataclass(frozen=True)
class Task:
    label: str
    task_type: str
    num_fewshot: int
    continuation_delimiter: str
    random_baseline: float  # percent
    items: tuple[dict, ...]


def load_bundle(bundle_dir: str | Path) -> list[Task]:
    bundle = Path(bundle_dir)
    config_path = next(
        (bundle / n for n in ("core.json", "core.yaml") if (bundle / n).is_file()), None
    )
    if config_path is None:
        raise NanochatError(
            f"{bundle}: no core.json or core.yaml; point --core-bundle at a CORE bundle"
        )
    try:
        if config_path.suffix == ".json":
            config = json.loads(config_path.read_text(encoding="utf-8"))
        else:
            import yaml

            config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except ImportError as exc:
        raise NanochatError(
            f"{config_path}: reading YAML needs PyYAML; install it or use core.json"
        ) from exc
    except ValueError as exc:
        raise NanochatError(f"{config_path}: not valid JSON/YAML ({exc}); fix the file") from exc
    specs = config.get("tasks") if isinstance(config, dict) else None
    if not isinstance(specs, list) or not specs:
        raise NanochatError(f"{config_path}: expected a non-empty 'tasks' list; fix the file")
    return [_task(config_path, spec) for spec in specs]


def _task(config_path: Path, spec: dict) -> Task:
    label = spec.get("label") if isinstance(spec, dict) else None
    where = f"{config_path}: task {label!r}"
    if not label or spec.get("task_type") not in TASK_TYPES:
        raise NanochatError(f"{where}: needs a label and a task_type in {', '.join(TASK_TYPES)}")
    try:
        num_fewshot = int(spec.get("num_fewshot", 0))
        baseline = float(spec.get("random_baseline", 0.0))
    except (TypeError, ValueError) as exc:
        raise NanochatError(f"{where}: num_fewshot and random_baseline must be numbers") from exc
    if not 0.0 <= baseline < 100.0:
        raise NanochatError(f"{where}: random_baseline {baseline} must be a percentage in [0, 100)")
    data_path = config_path.parent / spec.get("data", f"{label}.jsonl")
    items = tuple(_read_items(data_path, spec["task_type"]))
    if not items:
        raise NanochatError(f"{data_path}: no items; add JSONL lines or drop task {label!r}")
    delimiter = str(spec.get("continuation_delimiter", " "))
    return Task(label, spec["task_type"], num_fewshot, delimiter, baseline, items)


def _read_items(path: Path, task_type: str) -> list[dict]:
    if not path.is_file():
        raise NanochatError(f"{path}: task data missing; add it to the bundle")
    items = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise NanochatError(f"{path}:{lineno}: invalid JSON ({exc.msg}); fix the line") from exc
        missing = [k for k in ITEM_KEYS[task_type] if k not in item]
        if missing:
            raise NanochatError(f"{path}:{lineno}: {task_type} item lacks {', '.join(missing)}")
        options = item.get("choices", item.get("context_options"))
        if "gold" in item and not (
            isinstance(item["gold"], int) and 0 <= item["gold"] < len(options)
        ):
            raise NanochatError(f"{path}:{lineno}: gold {item['gold']!r} is not an option index")
        items.append(item)
    return items


def render_options(task: Task, item: dict, fewshot: list[dict]) -> list[tuple[str, str]]:
    """(prompt, continuation) per option (a single pair for language modeling)."""
    d, sep = task.continuation_delimiter, FEWSHOT_SEPARATOR
    if task.task_type == "multiple_choice":
        shots = "".join(f"{ex['query']}{d}{ex['choices'][ex['gold']]}{sep}" for ex in fewshot)
        return [(f"{shots}{item['query']}{d}", choice) for choice in item["choices"]]
    if task.task_type == "schema":
        shots = "".join(
            f"{ex['context_options'][ex['gold']]}{d}{ex['continuation']}{sep}" for ex in fewshot
        )
        return [(f"{shots}{ctx}{d}", item["continuation"]) for ctx in item["context_options"]]
    shots = "".join(f"{ex['context'].strip()}{d}{ex['continuation']}{sep}" for ex in fewshot)
    return [(f"{shots}{item['context'].strip()}{d}", item["continuation"])]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def encode_options(
    tokenizer, pairs: list[tuple[str, str]]
) -> tuple[list[list[int]], list[tuple[int, int]]]:
    """BOS-prefixed token sequences and the [start, end) span of continuation tokens in each.

    The span starts where the full text's tokens stop matching the prompt's own tokens (prompt
    right-stripped, since a trailing delimiter space merges into the continuation's first token).
    """
    full = tokenizer.encode_batch([p + c for p, c in pairs], num_threads=1)
    prompts = tokenizer.encode_batch([p.rstrip() for p, _ in pairs], num_threads=1)
    sequences, spans = [], []
    for ids, prompt_ids in zip(full, prompts, strict=True):
        seq = [tokenizer.bos_id, *ids]
        start = 1 + _common_prefix(ids, prompt_ids)
        sequences.append(seq)
        spans.append((min(start, len(seq) - 1), len(seq)))
    return sequences, spans


def _crop(sequences: list[list[int]], spans, bos_id: int, max_seq_len: int | None):
    """Crop from the left, keeping BOS first and the spans, so each sequence fits max_seq_len."""
    if max_seq_len is None:
        return sequences, spans
    cropped, new_spans = [], []
    for seq, (start, end) in zip(sequences, spans, strict=True):
        drop = max(0, len(seq) - max_seq_len)
        if drop > start - 1:
            raise NanochatError(f"a CORE item's scored span does not fit max_seq_len={max_seq_len}")
        cropped.append([bos_id, *seq[1 + drop :]] if drop else seq)
        new_spans.append((start - drop, end - drop))
    return cropped, new_spans


@torch.no_grad()
def score_item(
    model, tokenizer, task: Task, item: dict, fewshot: list[dict], device, max_seq_len=None
) -> bool:
    sequences, spans = encode_options(tokenizer, render_options(task, item, fewshot))
    sequences, spans = _crop(sequences, spans, tokenizer.bos_id, max_seq_len)
    width = max(len(s) for s in sequences)
    batch = torch.full((len(sequences), width), tokenizer.bos_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        batch[row, : len(seq)] = torch.tensor(seq)  # right padding cannot affect causal logits
    logits = model(batch.to(device)).float().cpu()
    if task.task_type == "language_modeling":
        start, end = spans[0]
        predicted = logits[0, start - 1 : end - 1].argmax(dim=-1)
        return bool(torch.equal(predicted, batch[0, start:end]))
    losses = torch.stack(
        [
            F.cross_entropy(logits[row, start - 1 : end - 1], batch[row, start:end])
            for row, (start, end) in enumerate(spans)
        ]
    )
    return int(losses.argmin()) == item["gold"]


def centered_accuracy(accuracy: float, random_baseline: float) -> float:
    base = random_baseline / 100.0
    return (accuracy - base) / (1.0 - base)


def evaluate_core(
    model,
    tokenizer,
    bundle_dir: str | Path,
    max_per_task: int = -1,
    device=None,
    max_seq_len: int | None = None,
    seed: int = DEFAULT_SEED,
) -> dict:
    """{"accuracy": {label: acc}, "centered": {label: centred acc}, "core": mean centred}."""
    tasks = load_bundle(bundle_dir)
    if max_seq_len is None:  # a nanochat GPT cannot read past its rotary tables
        max_seq_len = getattr(getattr(model, "config", None), "sequence_len", None)
    if device is None:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    accuracy, centered = {}, {}
    try:
        for task in tasks:
            items = task.items if max_per_task < 0 else task.items[:max_per_task]
            correct = 0
            for index, item in enumerate(items):
                others = [other for j, other in enumerate(task.items) if j != index]
                shots = random.Random(seed + index).sample(
                    others, min(task.num_fewshot, len(others))
                )
                correct += score_item(model, tokenizer, task, item, shots, device, max_seq_len)
            accuracy[task.label] = correct / len(items)
            centered[task.label] = centered_accuracy(accuracy[task.label], task.random_baseline)
    finally:
        model.train(was_training)
    return {
        "accuracy": accuracy,
        "centered": centered,
        "core": sum(centered.values()) / len(centered),
    }
