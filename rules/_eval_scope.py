"""A visitor mixin that knows whether it is inside an evaluation function.

``validate*`` is deliberately not an evaluation name: in real code it mostly checks inputs.

Not a rule module (it defines no Rule subclass). An evaluation function is one whose name
starts with ``eval``, ``evaluate``, ``validation``, ``estimate_loss``, ``val_``
or ``compute_val``, or contains ``_eval``/``_val_`` (``run_eval``, ``compute_val_bpb``), or ends in
``_bpb``; test functions (``test_*``) never count.
"""

from __future__ import annotations

import re

import libcst as cst

from rules._syntax import call_name

MODEL_NAMES = frozenset({"model", "self.model", "net", "module", "self.net", "self.module"})
_EVAL_NAME = re.compile(
    r"^(eval|evaluate|validation|estimate_loss|val_|compute_val)|_eval|_val_|_bpb$"
)


def is_eval_name(name: str) -> bool:
    """Test functions (``test_*``) are never evaluation functions, whatever else they say."""
    lowered = name.lower()
    return not lowered.startswith("test") and bool(_EVAL_NAME.search(lowered))


class EvalScope:
    """Mixin for a Rule: ``eval_function`` is the innermost enclosing eval function, or None;
    ``record_model_call`` and ``model_called_in`` track which model each one runs."""

    def _eval_stack(self) -> list[cst.FunctionDef | None]:
        if "_eval_functions" not in self.__dict__:
            self._eval_functions: list[cst.FunctionDef | None] = []
        return self._eval_functions

    @property
    def eval_function(self) -> cst.FunctionDef | None:
        stack = self._eval_stack()
        return next((f for f in reversed(stack) if f is not None), None)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._eval_stack().append(node if is_eval_name(node.name.value) else None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._eval_stack().pop()

    def record_model_call(self, node: cst.Call) -> None:
        """Remember the first model (``model(...)``, ``self.net(...)``) the current evaluation
        function calls."""
        function = self.eval_function
        name = call_name(node) or ""
        if function is not None and (name in MODEL_NAMES or name.endswith("model")):
            if "_models" not in self.__dict__:
                self._models: dict[int, str] = {}
            self._models.setdefault(id(function), name)

    def model_called_in(self, function: cst.FunctionDef) -> str | None:
        return self.__dict__.get("_models", {}).get(id(function))
