"""The anthropic proposer, driven through the real SDK against scripted Messages API replies.

The Anthropic service is unreachable from the test machines, so the SDK's HTTP transport is
replaced by ``httpx2.MockTransport``: each request is answered from a JSON fixture under
``fixtures/anthropic/``, written in the Messages API's documented response format (a ``message``
with ``text`` and ``tool_use`` content blocks, ``stop_reason`` and ``usage``; errors as
``{"type": "error", "error": {...}}``). Everything above the transport is the real thing: the
SDK's request building, retries and parsing, and a temp worktree holding copies of the repo's
``nanochat/*.py``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

try:
    import httpx2  # the anthropic SDK's HTTP library, installed with it
except ImportError as err:  # the SDK is optional for the harness, not for these tests
    raise ImportError(f"{__file__}: needs the anthropic SDK; pip install anthropic") from err

from harness.research.anthropic_proposer import (
    MAX_RETRIES,
    NUDGE,
    TOOLS,
    AnthropicProposer,
    Spending,
    make_client,
)
from harness.research.proposal import ProposalContext, Usage
from harness.research.settings import ResearchSettings

FIXTURES = Path(__file__).parent / "fixtures" / "anthropic"
REPO = Path(__file__).resolve().parents[2]
SETTINGS = ResearchSettings(model="claude-sonnet-4-5", max_turns=6)
OLD, NEW = "rope_base: float = 10000.0", "rope_base: float = 50000.0"  # edit_config.json
SESSION = ["read_config", "edit_config", "finish"]
SESSION_USD = (
    0.01962  # 1700 in x $3 + 290 out x $15 + 6400 read x $0.30 + 2200 write x $3.75, per M
)
HISTORY = (
    {
        "id": "r00001",
        "kind": "baseline",
        "commit": "a1b2c3d4e5",
        "status": "keep",
        "score": 1.234567,
        "test_score": 1.111111,
        "description": "baseline",
    },
    {
        "id": "r00002",
        "kind": "experiment",
        "commit": "f6e5d4c3b2",
        "status": "discard",
        "score": 1.24,
        "test_score": 1.222222,
        "test_bpb": 1.333333,
        "description": "matrix_lr 0.02 -> 0.04",
        "reason": "gain -0.005433 below the margin 0.002",
    },
)
IDEAS = ({"id": "rope-base", "text": "Try a larger RoPE base", "priority": 1},)


class ScriptedAPI:
    """The Messages endpoint as a script of (status, fixture) replies; records every request."""

    def __init__(self, *replies: tuple[int, str] | str):
        self.replies = [(200, r) if isinstance(r, str) else r for r in replies]
        self.requests: list[dict] = []
        self.retry_counts: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        self.retry_counts.append(request.headers["x-stainless-retry-count"])
        assert self.replies, f"request {len(self.requests)} has no scripted reply"
        status, name = self.replies.pop(0)
        body = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        headers = {} if status == 200 else {"retry-after-ms": "1"}  # the SDK waits 1 ms, not 0.5 s
        return httpx2.Response(status, json=body, headers=headers)

    def proposer(self, settings: ResearchSettings = SETTINGS, **kwargs) -> AnthropicProposer:
        client = make_client("test-key", httpx2.Client(transport=httpx2.MockTransport(self)))
        return AnthropicProposer(settings, client=client, **kwargs)

    def tool_result(self, request: int) -> dict:
        """The first tool result that request number ``request`` (from 0) sent back."""
        return self.requests[request]["messages"][-1]["content"][0]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "worktree"
    (root / "nanochat").mkdir(parents=True)
    for name in ("config.py", "evaluate.py", "optim.py"):
        shutil.copy(REPO / "nanochat" / name, root / "nanochat" / name)
    ledger = root / ".harness" / "research" / "tag"
    ledger.mkdir(parents=True)
    (ledger / "research.jsonl").write_text(json.dumps(HISTORY[1]) + "\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside the worktree\n", encoding="utf-8")
    return root


def context_for(root: Path, **changes) -> ProposalContext:
    fields = dict(
        settings=SETTINGS, history=HISTORY, best=HISTORY[0], ideas=IDEAS, strategy="local"
    )
    return ProposalContext(root=root, **{**fields, **changes})


def edited_config(root: Path) -> str:
    text = (root / "nanochat" / "config.py").read_text(encoding="utf-8")
    assert text.count(OLD) == 1, (
        f"nanochat/config.py no longer has {OLD!r} once; fix edit_config.json"
    )
    return text.replace(OLD, NEW)


def test_scripted_session_yields_the_edited_config_with_its_cost(worktree):
    api = ScriptedAPI(*SESSION)
    original = (worktree / "nanochat" / "config.py").read_text(encoding="utf-8")
    proposal = api.proposer().propose(context_for(worktree))
    assert proposal.edits == {"nanochat/config.py": edited_config(worktree)}
    assert proposal.description == "rope_base 10000 -> 50000"
    assert proposal.hypothesis == (
        "A larger RoPE base keeps distant positions apart, which helps at sequence_len 256."
    )
    assert (proposal.idea, proposal.strategy) == ("rope-base", "local")
    assert dataclasses.replace(proposal.usage, usd=0.0) == Usage(1700, 290, 6400, 2200, 0.0, 3)
    assert proposal.usage.usd == pytest.approx(SESSION_USD, rel=1e-12)  # rounding of float sums
    assert (worktree / "nanochat" / "config.py").read_text(encoding="utf-8") == original


def test_request_carries_the_model_the_tools_and_a_cached_system_prompt(worktree):
    api = ScriptedAPI(*SESSION)
    api.proposer().propose(context_for(worktree))
    body = api.requests[0]
    assert body["model"] == "claude-sonnet-4-5"
    assert body["tools"] == TOOLS
    assert [t["name"] for t in body["tools"]] == [
        "list_files",
        "read_file",
        "search",
        "edit_file",
        "read_ledger",
        "read_diff",
        "run_checks",
        "finish",
    ]
    assert [block.get("cache_control") for block in body["system"]] == [None, {"type": "ephemeral"}]
    assert body["cache_control"] == {"type": "ephemeral"}  # the conversation's moving breakpoint
    assert "1.234567" not in json.dumps(body["system"])  # the best score is dynamic: not cached


def test_first_message_carries_best_history_ideas_strategy_and_feedback(worktree):
    api = ScriptedAPI(*SESSION)
    feedback = "gate ruff: nanochat/config.py:9:1: F401 `os` imported but unused"
    api.proposer().propose(context_for(worktree, strategy="explore", feedback=feedback))
    text = api.requests[0]["messages"][0]["content"][0]["text"]
    assert "## Current best\nr00001 a1b2c3d keep val_bpb=1.234567: baseline\n" in text
    assert (
        "r00002 f6e5d4c discard val_bpb=1.240000: matrix_lr 0.02 -> 0.04 "
        "(gain -0.005433 below the margin 0.002)"
    ) in text
    assert (
        "## Open ideas (try these first; finish(idea=<id>))\n- [rope-base] Try a larger RoPE base"
        in text
    )
    assert "## Strategy: explore\nThe last 8 experiments brought no keep." in text
    assert f"## Your previous proposal was rejected\n{feedback}\n" in text
    assert "1.111111" not in text and "1.222222" not in text


def test_edit_outside_the_surface_is_an_error_result_and_not_in_the_proposal(worktree):
    api = ScriptedAPI("edit_evaluate", "edit_config", "finish")
    proposal = api.proposer().propose(context_for(worktree))
    assert api.tool_result(1) == {
        "type": "tool_result",
        "tool_use_id": "toolu_04EditEvaluate",
        "content": f"nanochat/evaluate.py: outside the editable surface "
        f"({', '.join(SETTINGS.surface)}); only surface files may change",
        "is_error": True,
    }
    assert list(proposal.edits) == ["nanochat/config.py"]


def test_path_escaping_the_worktree_is_refused(worktree):
    api = ScriptedAPI("read_outside", "edit_config", "finish")
    api.proposer().propose(context_for(worktree))
    assert api.tool_result(1)["content"] == (
        "../secret.txt: outside the worktree; give a path relative to its root"
    )
    assert api.tool_result(1)["is_error"] is True
    assert "outside the worktree\\n" not in json.dumps(api.requests)


def test_ledger_folder_is_hidden_from_read_file(worktree):
    api = ScriptedAPI("read_hidden_ledger", "edit_config", "finish")
    api.proposer().propose(context_for(worktree))
    assert api.tool_result(1)["content"] == (
        ".harness/research/tag/research.jsonl: hidden from proposers (git data, ledgers, caches)"
    )
    assert "1.333333" not in json.dumps(api.requests)


def test_ledger_tool_shows_the_summary_keys_and_never_test_scores(worktree):
    api = ScriptedAPI("read_ledger", "edit_config", "finish")
    api.proposer().propose(context_for(worktree))
    baseline = {
        "id": "r00001",
        "commit": "a1b2c3d4e5",
        "status": "keep",
        "score": 1.234567,
        "description": "baseline",
    }
    experiment = {
        "id": "r00002",
        "commit": "f6e5d4c3b2",
        "status": "discard",
        "score": 1.24,
        "description": "matrix_lr 0.02 -> 0.04",
        "reason": "gain -0.005433 below the margin 0.002",
    }
    result = api.tool_result(1)
    assert result["content"] == json.dumps(baseline) + "\n" + json.dumps(experiment)
    assert "test_" not in json.dumps(api.requests)


def test_rate_limit_is_retried_by_the_sdk_and_the_proposal_succeeds(worktree):
    api = ScriptedAPI((429, "rate_limited"), "edit_config", "finish")
    proposal = api.proposer().propose(context_for(worktree))
    assert proposal.edits == {"nanochat/config.py": edited_config(worktree)}
    assert api.retry_counts == ["0", "1", "0"]  # the 429 was retried once, inside the SDK
    assert proposal.usage.requests == 2  # the refused attempt is neither billed nor counted


@pytest.mark.parametrize(
    ("status", "fixture", "reason"),
    [
        (529, "overloaded", "the Anthropic API is unavailable (529) after 4 retries: Overloaded"),
        (
            500,
            "api_error",
            "the Anthropic API is unavailable (500) after 4 retries: Internal server error",
        ),
        (
            429,
            "rate_limited",
            "the Anthropic API is rate-limited (429) after 4 retries: "
            "Number of request tokens has exceeded your per-minute rate limit",
        ),
    ],
)
def test_persistent_api_failure_ends_with_none_and_a_reason(worktree, status, fixture, reason):
    api = ScriptedAPI(*[(status, fixture)] * (MAX_RETRIES + 1))
    proposer = api.proposer()
    assert proposer.propose(context_for(worktree)) is None
    assert proposer.stopped_reason == reason
    assert len(api.requests) == MAX_RETRIES + 1


def test_spending_cap_stops_further_proposals(worktree):
    api = ScriptedAPI(*SESSION)
    proposer = api.proposer(dataclasses.replace(SETTINGS, max_usd=0.019))
    first = proposer.propose(context_for(worktree))  # $0.0171 < the cap before its last request
    assert first.description == "rope_base 10000 -> 50000"
    assert proposer.propose(context_for(worktree)) is None
    assert proposer.stopped_reason == "spending cap reached: $0.0196 spent of $0.019 (max-usd)"
    assert len(api.requests) == 3


def test_spending_is_shared_by_the_proposers_of_one_run(worktree):
    spending = Spending()
    settings = dataclasses.replace(SETTINGS, max_usd=0.019)
    ScriptedAPI(*SESSION).proposer(settings, spending=spending).propose(context_for(worktree))
    other = ScriptedAPI()
    proposer = other.proposer(settings, spending=spending)
    assert proposer.propose(context_for(worktree)) is None
    assert spending.usd == pytest.approx(SESSION_USD, rel=1e-12)  # rounding of float sums
    assert other.requests == []


def test_max_turns_without_finish_is_an_empty_proposal_that_carries_its_cost(worktree):
    api = ScriptedAPI("talk", "talk")
    proposer = api.proposer(dataclasses.replace(SETTINGS, max_turns=2))
    proposal = proposer.propose(context_for(worktree))
    assert (proposal.edits, proposal.description) == ({}, "no finish within 2 turns (max-turns)")
    assert proposer.stopped_reason == ""
    assert api.requests[1]["messages"][-1]["content"] == [NUDGE]
    assert proposal.usage.requests == 2


def test_missing_api_key_stops_before_any_request(worktree, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    proposer = AnthropicProposer(SETTINGS)
    assert proposer.propose(context_for(worktree)) is None
    assert proposer.stopped_reason == (
        "ANTHROPIC_API_KEY is not set; export it or use the offline proposer"
    )
