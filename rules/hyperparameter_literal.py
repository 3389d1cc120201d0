"""A tuning number written outside the config is invisible to sweeps and logs.

What it does
Flags hyperparameters written as numeric literals in nanochat modules other than the config
module. A literal counts as a hyperparameter when it is:

- the value of a keyword argument or parameter default whose name is a hyperparameter name
  (optimizer settings such as ``lr``, ``betas``, ``weight_decay``, ``eps``, ``momentum``,
  ``max_norm``, ``dropout``; schedule and budget names such as ``warmup_steps``, ``num_steps``,
  ``max_iters``, ``eval_every``, ``log_interval``; batch and shape names such as ``batch_size``,
  ``block_size``, ``n_layer``, ``n_embd``, ``vocab_size``; ``seed``; or any name ending in ``_lr``);
- a positional argument to an optimizer or LR-scheduler constructor, the ``max_norm`` of
  ``clip_grad_norm_``, or the seed passed to ``torch.manual_seed``/``random.seed``/``set_seed``;
- assigned to a variable or dict key with a hyperparameter name (``lr = 3e-4``,
  ``WARMUP_STEPS = 200``, ``{"lr": 0.3}``), or a float literal other than 0.5 and 2.0 inside a
  formula assigned to one (``momentum = (1 - frac) * 0.85 + frac * 0.95``);
- compared with the step counter or used as its modulus in the step loop
  (``if step % 100 == 0``, ``if step < 500``), or the length of the step loop
  (``for step in range(5000)``).

``0`` and ``-1`` (the "disabled" conventions) never count; against the step counter ``1`` and ``2``
do not count either, nor does ``temperature``/``gamma``/``std`` at ``1`` (no effect, unit normal).
A named ``1.0`` does count otherwise (``max_norm=1.0`` is a choice). Arithmetic elsewhere never
counts (shape math such as ``4 * dim`` or ``head_dim // 2``, ``0.5`` in a cosine formula).

Why is this bad?
A number buried in an optimizer call or a step loop is a hyperparameter nobody can see, sweep
or record: experiments that "change the learning rate" through the config silently keep the
buried value, and the run summary lies about what was trained.

Example
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)

Use instead
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=cfg.optim.lr,
        betas=cfg.optim.adam_betas,
        weight_decay=cfg.optim.weight_decay,
    )

Fix safety
No automatic fix: the value needs a named field in ``nanochat/config.py``.

Options
config_paths: path globs of the modules where hyperparameter literals belong (default
``*/config.py``, ``*/configs/*``).
"""

from __future__ import annotations

import re

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._step_loop import StepLoopScope
from rules._syntax import (
    STEP_LOOP_TARGETS,
    TEST_PATHS,
    call_name,
    dotted,
    number_value,
    positional,
    string_value,
)
from rules.object_created_in_step_loop import OPTIMIZERS

HYPER_NAMES = frozenset(
    {"lr", "learning_rate", "betas", "beta1", "beta2", "weight_decay", "wd", "eps", "epsilon"}
    | {"momentum", "dampening", "warmup", "warmup_steps", "warmup_iters", "warmup_ratio"}
    | {"warmdown_ratio", "cooldown_steps", "decay_steps", "max_norm", "clip", "grad_clip"}
    | {"clip_value", "dropout", "label_smoothing", "gamma", "min_lr", "max_lr", "final_lr_frac"}
    | {"lr_decay", "ns_steps", "temperature", "z_loss", "init_std", "softcap", "logit_softcap"}
    | {"batch_size", "micro_batch_size", "device_batch_size", "total_batch_size", "seq_len"}
    | {"sequence_len", "block_size", "context_length", "max_steps", "num_steps", "total_steps"}
    | {"max_iters", "num_iterations", "num_epochs", "epochs", "eval_every", "eval_interval"}
    | {"eval_iters", "log_every", "log_interval", "save_every", "checkpoint_every"}
    | {"grad_accum_steps", "gradient_accumulation_steps", "n_layer", "n_layers", "num_layers"}
    | {"n_head", "n_heads", "num_heads", "n_embd", "d_model", "hidden_size", "model_dim"}
    | {"vocab_size", "head_dim", "seed", "time_budget", "max_seq_len", "std"}
)
# Words that make a compound name a hyperparameter (lr_decay_iters, warmup_ratio, max_grad_clip) ...
_HYPER_WORDS = frozenset(
    {"lr", "warmup", "warmdown", "cooldown", "decay", "momentum", "dropout", "eps", "epsilon"}
    | {"beta1", "beta2", "betas", "clip", "smoothing", "softcap", "temperature", "iters", "epochs"}
)
# ... unless another word says it is an index, a counter or a flag (warmup_done, decay_idx).
_NOT_HYPER_WORDS = frozenset(
    {"idx", "index", "done", "count", "enabled", "flag", "name", "fn", "type"}
)
_SEEDERS = frozenset({"manual_seed", "seed", "set_seed", "seed_everything", "manual_seed_all"})
_SCHEDULERS = frozenset(
    {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR", "LinearLR"}
    | {"CosineAnnealingWarmRestarts", "CyclicLR", "PolynomialLR", "ConstantLR"}
)
_TRIVIAL = (0, -1)  # "disabled" and "-1 = off"; a named 1.0 (max_norm=1.0) is a real choice
_STEP_TRIVIAL = (0, 1, -1, 2)
# Names whose value 1 means "no effect" (temperature=1.0 leaves logits alone).
_IDENTITY_AT_ONE = frozenset(
    {"default of 'temperature'", "temperature", "default of 'gamma'", "gamma", "std"}
)
_ARITHMETIC_TRIVIAL = (0.0, 1.0, 0.5, 2.0, -1.0)


def is_hyper_name(name: str) -> bool:
    """A known hyperparameter name, or one built from hyperparameter words (``lr_decay_iters``)."""
    lowered = name.lower().lstrip("_")
    if lowered in HYPER_NAMES or lowered.endswith("_lr") or re.fullmatch(r"adam_beta\d?", lowered):
        return True
    parts = set(lowered.split("_"))
    return bool(parts & _HYPER_WORDS) and not parts & _NOT_HYPER_WORDS


class HyperparameterLiteral(StepLoopScope, Rule):
    code = "NC301"
    name = "hyperparameter-literal"
    severity = "error"
    message = "hyperparameter {what} = {value} written inline in {module}"
    fix_title = "Add a field to the config dataclass (nanochat/config.py) and read it from there"
    tags = ("configuration",)
    # Case-sensitive substrings: lower-case names, UPPER_CASE constants, and the step-loop forms.
    prefilter = (
        "lr",
        "LR",
        "decay",
        "DECAY",
        "eps",
        "EPS",
        "beta",
        "BETA",
        "step",
        "STEP",
        "warmup",
        "WARMUP",
        "clip",
        "momentum",
        "dropout",
        "Adam",
        "SGD",
        "seed",
        "SEED",
        "batch",
        "BATCH",
        "size",
        "SIZE",
        "layer",
        "LAYER",
        "head",
        "HEAD",
        "embd",
        "iters",
        "ITERS",
        "every",
        "EVERY",
        "interval",
        "INTERVAL",
        "epochs",
        "EPOCHS",
        "temperature",
        "gamma",
        "range(",
    )
    include = ("nanochat/*",)
    exclude = TEST_PATHS
    exempt_paths_option = "config_paths"
    options = {
        "config_paths": Option(
            default=("*/config.py", "*/configs/*"),
            doc="path globs of the modules where hyperparameter literals belong",
            kind=(tuple, list),
        )
    }

    def __init__(self, context) -> None:
        super().__init__(context)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        for param in (*node.params.params, *node.params.kwonly_params):
            if param.default is not None and is_hyper_name(param.name.value):
                self._check(param.default, f"default of {param.name.value!r}")

    def visit_Call(self, node: cst.Call) -> None:
        name = (call_name(node) or "").rsplit(".", 1)[-1]
        for arg in node.args:
            if arg.keyword is not None and is_hyper_name(arg.keyword.value):
                self._check(arg.value, arg.keyword.value)
        if name in OPTIMIZERS or name in _SCHEDULERS:
            for index, arg in enumerate(positional(node)[1:], start=1):
                self._check(arg.value, f"{name} argument {index}")
        elif name in ("clip_grad_norm_", "clip_grad_value_"):
            for arg in positional(node)[1:2]:
                self._check(arg.value, f"{name} max_norm")
        elif name in _SEEDERS:
            for arg in positional(node)[:1]:
                self._check(arg.value, f"{name} seed")

    def visit_For(self, node: cst.For) -> None:
        super().visit_For(node)
        header = node.iter
        if self.in_step_loop and isinstance(header, cst.Call) and call_name(header) == "range":
            for arg in positional(header):
                self._check(arg.value, "number of steps", _STEP_TRIVIAL)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            name = dotted(target.target)
            if name and is_hyper_name(name.rsplit(".", 1)[-1]):
                self._check(node.value, name)
                self._check_arithmetic(node.value, name)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = string_value(node.key)
        if key and is_hyper_name(key):
            self._check(node.value, repr(key))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        name = dotted(node.target)
        if node.value is not None and name and is_hyper_name(name.rsplit(".", 1)[-1]):
            self._check(node.value, name)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if not self.in_step_loop:
            return
        operands = [node.left, *(c.comparator for c in node.comparisons)]
        if any(_is_step(o) for o in operands):
            for operand in operands:
                self._check(operand, "step threshold", _STEP_TRIVIAL)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if self.in_step_loop and isinstance(node.operator, cst.Modulo) and _is_step(node.left):
            self._check(node.right, "step interval", _STEP_TRIVIAL)

    def _check_arithmetic(self, expr: cst.BaseExpression, name: str) -> None:
        """Float literals in a formula assigned to a hyperparameter (``momentum = 0.85 * a``)."""
        if not isinstance(expr, cst.BinaryOperation):
            return
        literals = _Literals()
        expr.visit(literals)
        for literal in literals.found:
            self.report(
                literal,
                what=f"in the formula for {name}",
                value=literal.value,
                module=self.context.module,
            )

    def _check(self, expr: cst.BaseExpression, what: str, trivial: tuple = _TRIVIAL) -> None:
        if what in _IDENTITY_AT_ONE:
            trivial = (*trivial, 1)
        values = expr.elements if isinstance(expr, (cst.Tuple, cst.List)) else None
        literals = [e.value for e in values] if values is not None else [expr]
        numbers = [number_value(e) for e in literals]
        if not numbers or any(n is None for n in numbers) or all(n in trivial for n in numbers):
            return
        value = _EMPTY.code_for_node(expr)
        self.report(expr, what=what, value=value, module=self.context.module)


class _Literals(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.BaseExpression] = []

    def visit_Float(self, node: cst.Float) -> None:
        if number_value(node) not in _ARITHMETIC_TRIVIAL:
            self.found.append(node)


def _is_step(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value in STEP_LOOP_TARGETS | {"step_idx", "iter_num"}


_EMPTY = cst.Module(body=[])
