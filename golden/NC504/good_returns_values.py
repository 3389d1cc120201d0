# harness-golden: path=harness/gates/example.py
"""A gate returns what it found; writing a report file is not console output."""

from harness.findings import GateResult


def run(ctx):
    return GateResult("example", ok=True, metrics={"files": len(ctx.paths)})


def write_log(lines, path):
    with open(path, "w") as out:
        for line in lines:
            print(line, file=out)


def main():
    print(run(None).to_dict())
