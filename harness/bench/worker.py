"""The child process of ``harness bench step --compare``: ``python -m harness.bench.worker NANOCHAT_ROOT``.

It puts ``NANOCHAT_ROOT`` first on ``sys.path`` before anything imports nanochat, so the ``nanochat``
it times is the one in that folder (a ref's export, or the working tree), while the timer, this
harness, is always the caller's. The protocol is JSON lines: the first stdin line is the StepBench
as a dict; the worker builds the session and answers ``{"built": true, "nanochat": DIR}``. Then
each stdin line is ``{"op": "warmup"}``, ``{"op": "round"}`` or ``{"op": "finish"}``, answered
with the warm-up dict, one round (``time_round``) or the session's facts; after ``finish`` it exits.
Any failure is answered ``{"error": "one line"}`` with exit status 2. Everything else the process
prints goes to stderr: file descriptor 1 is pointed there, so only protocol lines reach stdout.
"""

from __future__ import annotations

import json
import os
import sys

from harness.errors import HarnessError


def _protocol_stream():
    """A private copy of stdout for protocol lines; fd 1 (print, C-level output) goes to stderr."""
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def _serve(root: str, send) -> None:
    sys.path.insert(0, root)
    import nanochat

    found = os.path.dirname(os.path.abspath(nanochat.__file__))
    if os.path.dirname(found) != os.path.abspath(root):
        raise RuntimeError(f"imported nanochat from {found}, not from {root}")

    from harness.bench.step import StepBench, StepSession

    bench = StepBench(**json.loads(sys.stdin.readline()))
    session = StepSession(bench)
    send({"built": True, "nanochat": found})
    handlers = {"warmup": session.warm_up, "round": session.time_round, "finish": session.facts}
    for line in sys.stdin:
        op = json.loads(line)["op"]
        send(handlers[op]())
        if op == "finish":
            return


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = _protocol_stream()

    def send(message: dict) -> None:
        out.write(json.dumps(message) + "\n")

    try:
        _serve(args[0], send)
    except Exception as exc:  # every failure becomes one protocol line for the parent to raise
        text = " ".join(str(exc).split())
        if not isinstance(exc, HarnessError):
            text = f"{type(exc).__name__}: {text}"
        send({"error": text})
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
