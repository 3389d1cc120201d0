"""Tests for the CORE-style evaluator on a small bundle written by the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nanochat.config import NanochatError
from nanochat.core_eval import (
    Task,
    _crop,
    centered_accuracy,
    encode_options,
    evaluate_core,
    render_options,
)
from nanochat.tokenizer import Tokenizer

MC_ITEMS = [
    {"query": "The sky on a clear day is", "choices": ["green", "blue", "loud"], "gold": 1},
    {"query": "Ice is made of frozen", "choices": ["water", "sand", "light"], "gold": 0},
    {"query": "A cat says", "choices": ["moo", "quack", "meow"], "gold": 2},
    {"query": "Two plus two is", "choices": ["four", "five", "six"], "gold": 0},
]
SCHEMA_ITEMS = [
    {
        "context_options": ["The trophy was too big", "The box was too big"],
        "continuation": "so it did not fit.",
        "gold": 0,
    },
    {
        "context_options": ["Anna thanked Mary", "Mary thanked Anna"],
        "continuation": "for the help she gave.",
        "gold": 1,
    },
]
LM_ITEMS = [
    {"context": "Roses are red, violets are", "continuation": "blue"},
    {"context": "One, two, three,", "continuation": "four"},
]
TASKS = [
    {"label": "mc", "task_type": "multiple_choice", "num_fewshot": 0, "continuation_delimiter": " ", "random_baseline": 25.0},
    {"label": "schema", "task_type": "schema", "num_fewshot": 0, "continuation_delimiter": " ", "random_baseline": 50.0},
    {"label": "lm", "task_type": "language_modeling", "num_fewshot": 0, "continuation_delimiter": " ", "random_baseline": 0.0},
]  # fmt: skip


class PrefixOracle(torch.nn.Module):
    """Deterministic stand-in: after a prefix of a memorised token sequence, it is confident of
    that sequence's next token (logit 10); anywhere else its logits are uniform (all zero)."""

    def __init__(self, sequences: list[list[int]], vocab_size: int):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(()))  # gives the module a device
        self.next_token = {
            tuple(s[: i + 1]): s[i + 1] for s in sequences for i in range(len(s) - 1)
        }
        self.vocab_size = vocab_size

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        B, T = inputs.shape
        logits = torch.zeros(B, T, self.vocab_size)
        for b, row in enumerate(inputs.tolist()):
            for t in range(T):
                nxt = self.next_token.get(tuple(row[: t + 1]))
                if nxt is not None:
                    logits[b, t, nxt] = 10.0
        return logits


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    texts = [json.dumps(MC_ITEMS + SCHEMA_ITEMS + LM_ITEMS) * 5, "the quick brown fox " * 50]
    return Tokenizer.train(texts, 320)


def write_bundle(root: Path, tasks=TASKS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "core.json").write_text(json.dumps({"tasks": tasks}))
    for label, items in (("mc", MC_ITEMS), ("schema", SCHEMA_ITEMS), ("lm", LM_ITEMS)):
        (root / f"{label}.jsonl").write_text("".join(json.dumps(item) + "\n" for item in items))
    return root


def memorise(tok: Tokenizer, texts: list[str]) -> PrefixOracle:
    return PrefixOracle([[tok.bos_id, *tok.encode(t)] for t in texts], tok.vocab_size)


def test_core_is_the_mean_of_exact_centred_accuracies(tok, tmp_path):
    known = [
        "The sky on a clear day is blue",
        "Ice is made of frozen water",
        "A cat says meow",
        "Two plus two is five",  # wrong on purpose: mc accuracy 3/4
        "The trophy was too big so it did not fit.",
        "Anna thanked Mary for the help she gave.",  # wrong context: schema accuracy 1/2
        "Roses are red, violets are blue",  # the second LM item is unknown: accuracy 1/2
    ]
    result = evaluate_core(memorise(tok, known), tok, write_bundle(tmp_path / "bundle"))
    assert result["accuracy"] == {"mc": 0.75, "schema": 0.5, "lm": 0.5}
    assert result["centered"] == pytest.approx({"mc": 2 / 3, "schema": 0.0, "lm": 0.5}, abs=1e-12)
    assert result["core"] == pytest.approx((2 / 3 + 0.0 + 0.5) / 3, abs=1e-12)


def test_max_per_task_scores_only_the_first_items(tok, tmp_path):
    model = memorise(tok, ["The sky on a clear day is blue", "Roses are red, violets are blue"])
    result = evaluate_core(model, tok, write_bundle(tmp_path / "bundle"), max_per_task=1)
    assert result["accuracy"]["mc"] == 1.0
    assert result["accuracy"]["lm"] == 1.0


def test_centered_accuracy_maps_chance_to_zero_and_perfect_to_one():
    assert centered_accuracy(0.25, 25.0) == 0.0
    assert centered_accuracy(1.0, 25.0) == 1.0
    assert centered_accuracy(0.1, 25.0) == pytest.approx(-0.2)


def test_continuation_span_covers_exactly_the_choice_tokens(tok):
    task = Task("mc", "multiple_choice", 0, " ", 25.0, tuple(MC_ITEMS))
    sequences, spans = encode_options(tok, render_options(task, MC_ITEMS[0], []))
    for seq, (start, end), choice in zip(sequences, spans, MC_ITEMS[0]["choices"], strict=True):
        assert tok.decode(seq[start:end]) == f" {choice}"
        assert tok.decode(seq[1:start]) == "The sky on a clear day is"


def test_fewshot_prompts_lead_with_solved_examples_and_scoring_is_repeatable(tok, tmp_path):
    tasks = [dict(TASKS[0], num_fewshot=2)]
    bundle = write_bundle(tmp_path / "bundle", tasks)
    model = memorise(tok, [])
    assert evaluate_core(model, tok, bundle) == evaluate_core(model, tok, bundle)
    task = Task("mc", "multiple_choice", 2, " ", 25.0, tuple(MC_ITEMS))
    prompt, _ = render_options(task, MC_ITEMS[0], [MC_ITEMS[2], MC_ITEMS[3]])[0]
    assert prompt == "A cat says meow\n\nTwo plus two is four\n\nThe sky on a clear day is "


def test_crop_keeps_bos_and_shifts_the_span():
    sequences, spans = _crop([[9, 1, 2, 3, 4, 5]], [(4, 6)], bos_id=9, max_seq_len=4)
    assert sequences == [[9, 3, 4, 5]]
    assert spans == [(2, 4)]
    with pytest.raises(NanochatError, match="does not fit max_seq_len=2"):
        _crop([[9, 1, 2, 3, 4, 5]], [(4, 6)], bos_id=9, max_seq_len=2)


def test_missing_bundle_config_names_the_directory(tok, tmp_path):
    with pytest.raises(NanochatError, match=f"{tmp_path}: no core.json or core.yaml"):
        evaluate_core(memorise(tok, []), tok, tmp_path)


def test_malformed_jsonl_line_names_file_and_line(tok, tmp_path):
    bundle = write_bundle(tmp_path / "bundle")
    with (bundle / "lm.jsonl").open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(NanochatError, match=r"lm\.jsonl:3: invalid JSON"):
        evaluate_core(memorise(tok, []), tok, bundle)


def test_item_without_required_keys_is_reported(tok, tmp_path):
    bundle = write_bundle(tmp_path / "bundle")
    (bundle / "mc.jsonl").write_text(json.dumps({"query": "q", "choices": ["a"]}) + "\n")
    with pytest.raises(NanochatError, match=r"mc\.jsonl:1: multiple_choice item lacks gold"):
        evaluate_core(memorise(tok, []), tok, bundle)


def test_unknown_task_type_is_reported(tok, tmp_path):
    bundle = write_bundle(tmp_path / "bundle", [dict(TASKS[0], task_type="essay")])
    with pytest.raises(NanochatError, match="task 'mc': needs a label and a task_type in"):
        evaluate_core(memorise(tok, []), tok, bundle)


def test_a_real_tiny_gpt_is_scored_with_prompts_cropped_to_its_sequence_len(tok, tmp_path):
    from nanochat.config import ModelConfig
    from nanochat.model import GPT

    torch.manual_seed(0)
    model = GPT.build(ModelConfig(depth=1, vocab_size=tok.vocab_size, sequence_len=24), "cpu")
    bundle = write_bundle(tmp_path / "bundle", [dict(t, num_fewshot=2) for t in TASKS])
    result = evaluate_core(model, tok, bundle)
    assert set(result["accuracy"]) == {"mc", "schema", "lm"}
    assert all(0.0 <= acc <= 1.0 for acc in result["accuracy"].values())
    assert result["core"] == pytest.approx(sum(result["centered"].values()) / 3, abs=1e-12)
    assert model.training, "evaluate_core must restore training mode"
