"""The ``anthropic`` proposer: Claude changes the editable surface through tools, then finishes.

One proposal is one Messages API conversation of at most ``max-turns`` turns. The model reads the
worktree and the ledger, edits surface files by exact-string replacement (in memory, on top of the
worktree: the loop commits, the proposer never writes), may run the fast gates, and ends with
``finish``, which yields the ``Proposal`` (whole new file texts). The static prompt is a cached
prefix (``cache_control``); the first user message carries the best, recent history, open ideas,
the strategy and the last rejection. Test-split scores never reach the model: the ledger tool
shows a few keys and no tool reads hidden folders (``.harness/``). The SDK retries 429, 5xx and
connection errors with backoff (``MAX_RETRIES``); when it gives up, when the run's spending
reaches ``max-usd`` or when ``max-turns`` pass without a finish, ``propose`` returns None and
``stopped_reason`` says why in one line.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import re
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.research.ledger import visible_to_proposers
from harness.research.proposal import Proposal, ProposalContext, Usage
from harness.research.settings import ResearchSettings
from harness.research.surface import edit_problem

try:
    import anthropic
except ImportError:  # optional: only this proposer needs the SDK, the offline search does not
    anthropic = None

MAX_RETRIES = 4  # SDK retries per request; its backoff starts at 0.5 s and doubles up to 8 s
MAX_TOKENS = 8192  # per response: room for an edit_file call that rewrites a whole function
RECENT_RECORDS = 12  # ledger records quoted in the first message (read_ledger shows the rest)
OUTPUT_CHARS = 16_000  # one tool result at most, so a large file cannot flood the context
SEARCH_HITS = 80  # matching lines one search returns
LISTED_FILES = 400  # paths one list_files returns
SEARCHED_BYTES = 1_000_000  # larger files (data, checkpoints) are not searched
LEDGER_KEYS = ("id", "commit", "status", "score", "description", "reason")  # never test_*
EPHEMERAL = {"type": "ephemeral"}

# USD per million tokens (input, output), from Anthropic's pricing page
# (https://platform.claude.com/docs/en/about-claude/pricing) as of 2025-11. Cache writes (5-minute
# TTL) cost 1.25x input, cache reads 0.1x input. The longest matching prefix names the family; an
# unknown model is charged the most expensive price, so the spending cap errs on the safe side.
PRICES = {
    "claude-opus-4-5": (5.0, 25.0),
    "claude-opus-4": (15.0, 75.0),  # Opus 4 and 4.1
    "claude-sonnet-4": (3.0, 15.0),  # Sonnet 4 and 4.5, prompts up to 200k tokens
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
}
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


def _tool(name: str, arguments: str, description: str) -> dict:
    """A tool definition; ``arguments``: ``path start_line:int?`` (``?`` optional, str default)."""
    fields, required = {}, []
    for argument in arguments.split():
        key, _, kind = argument.rstrip("?").partition(":")
        fields[key] = {"type": "integer" if kind == "int" else "string"}
        required += [] if argument.endswith("?") else [key]
    schema = {"type": "object", "properties": fields, "required": required}
    return {"name": name, "description": description, "input_schema": schema}


# paths are relative to the worktree root (nanochat/config.py); globs are fnmatch's (* spans /)
TOOLS = [
    _tool("list_files", "glob?", "List the worktree's files (editable ones marked)."),
    _tool(
        "read_file", "path start_line:int? end_line:int?", "A text file, edits applied, numbered."
    ),
    _tool(
        "search", "pattern glob?", "Python regex over the worktree's text files: path:line: text"
    ),
    _tool(
        "edit_file",
        "path old new",
        "In an editable file, replace the exact text `old` (it must occur once) by `new`. Edits "
        "stay in memory and accumulate; copy `old` from read_file without the line numbers.",
    ),
    _tool("read_ledger", "last:int?", "The experiments so far (the newest `last` if given)."),
    _tool("read_diff", "commit", "A past experiment's diff, by the commit read_ledger shows."),
    _tool("run_checks", "", "Run the fast gates (format, lint, rules) on your current edits."),
    _tool(
        "finish",
        "description hypothesis idea?",
        "End this proposal with your edits: a one-line description, why it should improve the "
        "score, and the id of the open idea it tries, if any.",
    ),
]


class Spending:
    """Dollars spent by every anthropic proposer of one run; share one so the cap spans workers."""

    def __init__(self, usd: float = 0.0):
        self.usd = usd
        self._lock = threading.Lock()

    def add(self, usd: float) -> None:
        with self._lock:
            self.usd += usd


def price_of(model: str) -> tuple[float, float]:
    """(input, output) USD per million tokens for ``model``'s family (see ``PRICES``)."""
    families = [family for family in PRICES if model.startswith(family)]
    return PRICES[max(families, key=len)] if families else max(PRICES.values())


def usage_of(usage, model: str) -> Usage:
    """One response's ``usage`` (the SDK's object) as a ``Usage`` with its price."""
    read = usage.cache_read_input_tokens or 0
    write = usage.cache_creation_input_tokens or 0
    input_price, output_price = price_of(model)
    priced_input = usage.input_tokens + read * CACHE_READ_FACTOR + write * CACHE_WRITE_FACTOR
    usd = (priced_input * input_price + usage.output_tokens * output_price) / 1e6
    return Usage(usage.input_tokens, usage.output_tokens, read, write, usd, requests=1)


def make_client(api_key: str | None = None, http_client=None):
    """The SDK client with this proposer's retries (``http_client``: another transport)."""
    return anthropic.Anthropic(api_key=api_key, max_retries=MAX_RETRIES, http_client=http_client)


def in_surface(path: str, globs: Sequence[str]) -> bool:
    """fnmatch semantics (``*`` spans folders), as ``harness.research.surface`` matches them."""
    return any(fnmatch.fnmatchcase(path, glob) for glob in globs)


def _is_hidden(relative: str) -> bool:
    """Git data, ledgers (``.harness/``, which hold test scores), caches and environments."""
    return any(part.startswith(".") or part == "__pycache__" for part in relative.split("/"))


class ToolError(Exception):
    """A tool call the model got wrong; its text goes back as an ``is_error`` tool result."""


class _Stop(Exception):
    """Why this proposal ends without a result; becomes ``stopped_reason``."""


class Workspace:
    """The model's view of the worktree: its files overlaid with the in-memory edits."""

    def __init__(self, context: ProposalContext):
        self.context = context
        self.root = Path(context.root).resolve()
        self.edits: dict[str, str] = {}
        self.finished: Proposal | None = None

    def run(self, name: str, args: dict) -> tuple[str, bool]:
        """(result text, is_error) of one tool call."""
        handler = getattr(self, f"tool_{name}", None)
        if handler is None:
            return f"unknown tool {name!r}; use one of {', '.join(t['name'] for t in TOOLS)}", True
        try:
            return _capped(handler(**_arguments(name, args))), False
        except ToolError as err:
            return str(err), True

    def relative(self, path: str) -> str:
        try:
            candidate = (self.root / path).resolve()
        except (OSError, ValueError) as err:  # a NUL byte, a symlink loop
            raise ToolError(f"{path!r}: not a usable path ({err})") from err
        if not candidate.is_relative_to(self.root):
            raise ToolError(f"{path}: outside the worktree; give a path relative to its root")
        relative = candidate.relative_to(self.root).as_posix()
        if _is_hidden(relative):
            raise ToolError(f"{path}: hidden from proposers (git data, ledgers, caches)")
        return relative

    def text(self, relative: str, missing: str | None = None) -> str:
        """The file's text with the edits; ``missing`` (if given) stands for an unreadable file."""
        if relative in self.edits:
            return self.edits[relative]
        try:
            return (self.root / relative).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            if missing is not None:
                return missing
            raise ToolError(f"{relative}: no such text file; list_files shows the files") from err

    def files(self, glob: str = "") -> list[str]:
        found = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
            for name in sorted(names):
                file = Path(folder) / name
                relative = file.relative_to(self.root).as_posix()
                # a symlink may lead out of the worktree; read_file resolves it, search must not
                is_listed = not file.is_symlink() and not _is_hidden(name)
                if is_listed and (not glob or in_surface(relative, [glob])):
                    found.append(relative)
        return found

    def tool_list_files(self, glob: str = "") -> str:
        surface = self.context.settings.surface
        found = self.files(glob)
        lines = [f"{p} [editable]" if in_surface(p, surface) else p for p in found[:LISTED_FILES]]
        if len(found) > LISTED_FILES:
            lines.append(f"[{len(found) - LISTED_FILES} more; pass a narrower glob]")
        return "\n".join(lines) or f"no files match {glob!r}"

    def tool_read_file(self, path: str, start_line: int = 1, end_line: int = 0) -> str:
        relative = self.relative(path)
        lines = self.text(relative).splitlines()
        end = min(end_line, len(lines)) if end_line > 0 else len(lines)
        if start_line < 1 or start_line > max(end, 1):
            raise ToolError(f"{relative}: start_line {start_line} is past line {end}")
        shown = [f"{n:>5}\t{lines[n - 1]}" for n in range(start_line, end + 1)]
        return f"{relative} (lines {start_line}-{end} of {len(lines)})\n" + "\n".join(shown)

    def tool_search(self, pattern: str, glob: str = "") -> str:
        try:
            regex = re.compile(pattern)
        except re.error as err:
            raise ToolError(f"pattern {pattern!r}: not a valid regular expression ({err})") from err
        hits: list[str] = []
        for relative in self.files(glob):
            is_small = (self.root / relative).stat().st_size <= SEARCHED_BYTES  # not data shards
            text = self.text(relative, missing="") if is_small else ""
            for number, line in enumerate(text.splitlines(), 1):
                if regex.search(line):
                    hits.append(f"{relative}:{number}: {line.strip()[:200]}")
            if len(hits) >= SEARCH_HITS:
                return "\n".join(hits[:SEARCH_HITS] + [f"[stopped at {SEARCH_HITS}; narrow it]"])
        return "\n".join(hits) or f"no line matches {pattern!r}"

    def tool_edit_file(self, path: str, old: str, new: str) -> str:
        relative = self.relative(path)
        problem = edit_problem(
            self.root, relative, self.context.settings.surface, self.context.sealed
        )
        if problem:
            raise ToolError(f"{problem}; only surface files may change")
        text = self.text(relative)
        count = text.count(old) if old else 0
        if count != 1:
            problem = "old text not found" if count == 0 else f"old text occurs {count} times"
            raise ToolError(
                f"{relative}: {problem}; copy it exactly from read_file (your earlier edits are "
                "applied) with enough surrounding lines to occur once"
            )
        self.edits[relative] = text.replace(old, new, 1)
        return f"{relative}: replaced {old.count(chr(10)) + 1} line(s) by {new.count(chr(10)) + 1}"

    def tool_read_ledger(self, last: int = 0) -> str:
        records = list(self.context.history)[-last:] if last > 0 else list(self.context.history)
        return "\n".join(json.dumps(ledger_summary(r)) for r in records) or "no experiments yet"

    def tool_read_diff(self, commit: str) -> str:
        try:
            diff = self.context.diff_of(commit)
        except (HarnessError, OSError, ValueError, subprocess.SubprocessError) as err:
            raise ToolError(f"{commit}: no diff ({err}); read_ledger lists the commits") from err
        if not diff:
            raise ToolError(f"{commit}: no diff recorded; read_ledger lists the commits")
        return diff

    def tool_run_checks(self) -> str:
        if not self.edits:
            raise ToolError("no edits yet; edit_file first")
        messages = self.context.check(dict(self.edits))
        return "\n".join(messages) or "the fast checks pass"

    def tool_finish(self, description: str, hypothesis: str, idea: str = "") -> str:
        description = " ".join(description.split())
        if not description:
            raise ToolError("description: give one line saying what the change is")
        changed = {p: t for p, t in self.edits.items() if t != (self.root / p).read_text("utf-8")}
        if not changed:
            raise ToolError("no file differs from the worktree; edit_file before finish")
        ideas = [str(i.get("id", "")) for i in self.context.ideas]
        if idea and idea not in ideas:
            raise ToolError(f"idea {idea!r} is not open; open ideas: {', '.join(ideas) or 'none'}")
        self.finished = Proposal(
            edits=changed,
            description=description,
            hypothesis=hypothesis.strip(),
            idea=idea,
            strategy=self.context.strategy,
        )
        return "proposal recorded"


def _arguments(name: str, args: object) -> dict:
    """The tool's input checked against its schema, so a malformed call is a tool error."""
    schema = next(t["input_schema"] for t in TOOLS if t["name"] == name)
    missing = [key for key in schema["required"] if key not in (args or {})]
    if not isinstance(args, dict) or missing:
        raise ToolError(f"{name}: expected an object with {', '.join(schema['required'])}")
    for key, value in args.items():
        kind = schema["properties"].get(key, {}).get("type")
        if type(value) is not {"integer": int, "string": str}.get(kind):  # a bool is no integer
            raise ToolError(f"{name}: {key}={value!r} is not an argument of type {kind or 'any'}")
    return args


def _capped(text: str) -> str:
    if len(text) <= OUTPUT_CHARS:
        return text
    kept = text[:OUTPUT_CHARS].rsplit("\n", 1)[0]
    return kept + f"\n[truncated at {OUTPUT_CHARS} characters; ask for less (lines, glob, last)]"


def ledger_summary(record: dict) -> dict:
    """What the model sees of a ledger record: ``LEDGER_KEYS`` only, test scores never."""
    visible = visible_to_proposers(record)
    return {key: visible[key] for key in LEDGER_KEYS if key in visible}


def system_prompt(settings: ResearchSettings) -> list[dict]:
    """The static context, identical for every proposal of a run, so it is read from cache."""
    objective = settings.objective
    better = "lower" if objective.direction == "min" else "higher"
    budget = f"{settings.num_steps} steps" if settings.num_steps > 0 else f"{settings.budget_s:g} s"
    confirm = " and the gain reproduces with a second seed" if settings.confirm else ""
    cost = settings.simplicity_per_line
    confirm += f"; each net added line costs {cost:g} of gain" if cost else ""
    project = f"""You are a research engineer in an autoresearch loop on nanochat, a small GPT \
trainer (RoPE, QK-norm, value embeddings, sliding-window attention, ReLU^2, logit softcap, \
Muon + AdamW, BPE tokenizer, val bits-per-byte).

Each proposal you make is committed, checked by the fast gates, trained for {budget} and scored \
by a sealed evaluator on {objective.key}: {better} is better. A proposal is kept only when it \
beats the current best by more than the noise floor ({settings.sigmas:g} sigmas of the baseline \
seeds' spread, at least {settings.min_margin:g}){confirm}; otherwise it is discarded (or a \
crash, or rejected by the gates).

Editable surface (globs): {", ".join(settings.surface)}.

Rules:
- Edit only files in the surface. Everything else is sealed (the evaluator, data, tokenizer, the \
harness and its rules): edits there are refused, and a change that peeks at validation data is \
rejected.
- One focused change per proposal, with a hypothesis a single run can test. Small diffs.
- Training must still run and finish within the budget: crashes and timeouts are discarded.
- Every tuning number lives in nanochat/config.py as a dataclass field; no device strings outside \
nanochat/device.py."""
    workflow = """How to work:
1. read_ledger (and read_diff) to see what was tried and what happened.
2. read_file the code you will change; search to find where something is used.
3. edit_file with `old` copied exactly from read_file's text (without the line-number prefix). \
Edits accumulate in memory, each on top of the previous ones.
4. run_checks, and fix what it reports.
5. finish with a one-line description, the hypothesis, and the idea id if you tried an open idea.
Do not spend turns explaining; use the tools."""
    return [
        {"type": "text", "text": project},
        # one breakpoint after the last static block caches the tools and the whole system prompt
        {"type": "text", "text": workflow, "cache_control": EPHEMERAL},
    ]


def first_message(context: ProposalContext) -> str:
    """The dynamic part: best, recent history, open ideas, the strategy and the last rejection."""
    settings = context.settings
    key = settings.objective.key
    history = list(context.history)
    parts = [f"## Current best\n{_record_line(context.best, key)}"]
    recent = [_record_line(r, key) for r in history[-RECENT_RECORDS:]]
    none_yet = "none yet: this is the first proposal after the baseline"
    parts.append(f"## Recent experiments (of {len(history)})\n" + ("\n".join(recent) or none_yet))
    if context.ideas:
        ideas = [f"- [{i.get('id')}] {i.get('text')}" for i in context.ideas]  # priority order
        parts.append("## Open ideas (try these first; finish(idea=<id>))\n" + "\n".join(ideas))
    explore = (
        f"## Strategy: explore\nThe last {settings.plateau} experiments brought no keep. Try "
        "something different in kind from what the ledger shows was tried (another component "
        "or mechanism), not another nudge of the same setting."
    )
    local = "## Strategy: local\nRefine what works: one focused change near the best."
    parts.append(explore if context.strategy == "explore" else local)
    if context.feedback:
        parts.append(
            f"## Your previous proposal was rejected\n{context.feedback}\n"
            "Do not repeat it: fix the cause or try something else."
        )
    parts.append("Make one proposal now: explore with the tools, edit, check, then finish.")
    return "\n\n".join(parts)


def _record_line(record: dict, key: str) -> str:
    if not record:
        return "none"
    summary = ledger_summary(record)
    score = summary.get("score")
    shown = f"{score:.6f}" if isinstance(score, int | float) else "-"
    line = f"{summary.get('id', '?')} {str(summary.get('commit', ''))[:7]} {summary.get('status', '-')}"
    line += f" {key}={shown}: {summary.get('description', '')}"
    return line + (f" ({summary['reason']})" if summary.get("reason") else "")


NUDGE = {"type": "text", "text": "Continue with the tools; finish when your change is ready."}


class AnthropicProposer:
    """Claude as a proposer (see the module docstring); ``stopped_reason`` says why it stopped."""

    name = "anthropic"

    def __init__(self, settings: ResearchSettings, client=None, spending: Spending | None = None):
        self.settings = settings
        self.spending = spending if spending is not None else Spending()
        self._local = threading.local()  # per worker thread: workers may share one proposer
        self.client, self._unavailable = (client, "") if client is not None else _default_client()

    @property
    def stopped_reason(self) -> str:
        """Why this thread's latest ``propose`` returned None ("" when it returned a proposal)."""
        return getattr(self._local, "stopped_reason", "")

    @property
    def last_usage(self) -> Usage:
        """What this thread's latest ``propose`` cost, also when it returned None."""
        return getattr(self._local, "usage", Usage())

    def propose(self, context: ProposalContext) -> Proposal | None:
        self._local.stopped_reason, self._local.usage = "", Usage()
        try:
            proposal = self._converse(context)
        except _Stop as stop:
            self._local.stopped_reason = str(stop)
            return None
        return dataclasses.replace(proposal, usage=self.last_usage)

    def _converse(self, context: ProposalContext) -> Proposal:
        if self._unavailable:
            raise _Stop(self._unavailable)
        workspace = Workspace(context)
        system = system_prompt(self.settings)
        messages = [{"role": "user", "content": [{"type": "text", "text": first_message(context)}]}]
        for _turn in range(self.settings.max_turns):
            response = self._request(system, messages)
            blocks = [b.model_dump(mode="json", exclude_none=True) for b in response.content]
            messages.append({"role": "assistant", "content": blocks})
            results = []
            for use in (block for block in response.content if block.type == "tool_use"):
                text, is_error = workspace.run(use.name, use.input)
                if workspace.finished is not None:
                    return workspace.finished
                result = {"type": "tool_result", "tool_use_id": use.id, "content": text}
                results.append({**result, "is_error": is_error})
            messages.append({"role": "user", "content": results or [NUDGE]})
        # an empty proposal, not a stop: the loop records it as rejected (with its cost) and
        # asks again, so one wandering conversation does not end the whole search
        limit = f"no finish within {self.settings.max_turns} turns (max-turns)"
        return Proposal(edits={}, description=limit, hypothesis="")

    def _request(self, system: list[dict], messages: list[dict]):
        spent, cap = self.spending.usd, self.settings.max_usd
        # checked before every request: parallel workers overshoot by at most one response each
        if spent >= cap:
            raise _Stop(f"spending cap reached: ${spent:.4f} spent of ${cap:g} (max-usd)")
        retries = self.client.max_retries
        try:
            response = self.client.messages.create(
                model=self.settings.model,
                max_tokens=MAX_TOKENS,
                system=system,
                tools=TOOLS,
                messages=messages,
                # moves a breakpoint to the newest block, so each turn reads the last from cache
                cache_control=EPHEMERAL,
            )
        except anthropic.APIStatusError as err:
            raise _Stop(_status_reason(err, retries)) from err
        except anthropic.APIConnectionError as err:
            raise _Stop(f"cannot reach the Anthropic API after {retries} retries ({err})") from err
        usage = usage_of(response.usage, response.model)
        self._local.usage += usage
        self.spending.add(usage.usd)
        return response


def _status_reason(err, retries: int) -> str:
    status, message = err.status_code, getattr(err, "api_message", None) or str(err)
    if status == 429 or status >= 500:
        kind = "rate-limited" if status == 429 else "unavailable"
        return f"the Anthropic API is {kind} ({status}) after {retries} retries: {message}"
    return f"the Anthropic API refused the request ({status}): {message}"


def _default_client() -> tuple[object, str]:
    """(client, why there is none): the SDK client from ANTHROPIC_API_KEY."""
    if anthropic is None:
        return None, "the anthropic package is not installed; pip install anthropic"
    api_key = os.environ.get("ANTHROPIC_API_KEY", "")
    if not api_key:
        return None, "ANTHROPIC_API_KEY is not set; export it or use the offline proposer"
    return make_client(api_key), ""
