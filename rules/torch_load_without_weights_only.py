"""torch.load without weights_only=True can execute code from the file.

What it does
Flags ``torch.load(...)`` called without ``weights_only=True`` (missing, or set to anything
else).

Why is this bad?
Without ``weights_only=True`` ``torch.load`` unpickles arbitrary objects, so a checkpoint file
can run any code on load. Checkpoints are downloaded, shared between experiments and written by
agents; loading one must not be able to execute code. Since torch 2.6 the default is
``True``, but code that omits it behaves differently on older versions and hides the intent.

Example
    state = torch.load(path, map_location=device)

Use instead
    state = torch.load(path, map_location=device, weights_only=True)

Fix safety
The fix adds ``weights_only=True`` when the argument is missing. It is unsafe: a checkpoint
that pickled custom classes (an argparse Namespace, a dataclass config) will then fail to load
until those objects are saved as plain tensors, dicts, lists and numbers.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._syntax import call_name, insert_at_end, keyword


class TorchLoadWithoutWeightsOnly(Rule):
    code = "NC202"
    name = "torch-load-without-weights-only"
    severity = "error"
    message = "torch.load({target}) {problem}"
    fix_title = "Pass weights_only=True to torch.load"
    fix_applicability = "sometimes"
    tags = ("security", "correctness")
    prefilter = ("torch.load", "load(")

    def visit_Call(self, node: cst.Call) -> None:
        if call_name(node) not in ("torch.load", "torch.serialization.load"):
            return
        flag = keyword(node, "weights_only")
        target = (
            _EMPTY.code_for_node(node.args[0].value)
            if node.args and not node.args[0].keyword
            else "..."
        )
        if flag is None:
            edits = None
            if node.args and not any(a.star for a in node.args):
                last = self.position(node.args[-1].value)
                edits = (insert_at_end(last, ", weights_only=True"),)
            self.report(
                node, edits=edits, unsafe=True, target=target, problem="can unpickle arbitrary code"
            )
        elif not (isinstance(flag.value, cst.Name) and flag.value.value == "True"):
            is_false = isinstance(flag.value, cst.Name) and flag.value.value == "False"
            problem = (
                "disables weights_only" if is_false else "leaves weights_only to a runtime value"
            )
            self.report(
                node, target=target, problem=f"{problem}, so it can unpickle arbitrary code"
            )


_EMPTY = cst.Module(body=[])
