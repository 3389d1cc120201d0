# harness-golden: path=harness/gates/example.py
"""A gate that talks to the console instead of returning findings."""

import sys

from harness.findings import GateResult

print("loading example gate")  # expect: NC504


def run(ctx):
    print(f"checking {len(ctx.paths)} files")  # expect: NC504
    if not ctx.paths:
        print("nothing to check", file=sys.stderr)  # expect: NC504
    return GateResult("example", ok=True)
