"""Reading environment variables outside the config module hides run settings.

What it does
Flags reads of environment variables (``os.environ[...]``, ``os.environ.get(...)``,
``os.getenv(...)``) in nanochat modules other than the config and device modules. The variables
torchrun sets for distributed training (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) are allowed anywhere.

Why is this bad?
An environment variable is a hidden hyperparameter: it changes behaviour without appearing in
the config, the command line or the run summary, so two runs with "the same config" differ
and the difference is never recorded. The config module reads the environment once and turns
it into fields.

Example
    def batch_size():
        return int(os.environ.get("NANOCHAT_BATCH", "8"))

Use instead
    # nanochat/config.py
    device_batch_size: int = 8  # set with --device-batch-size

Fix safety
No automatic fix: the value needs a config field and a flag.

Options
allowed_vars: variable names that may be read anywhere (default: the torchrun variables).
config_paths: path globs where reading the environment is the module's job.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._syntax import call_name, dotted, positional, string_value

_TORCHRUN = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class EnvironmentReadOutsideConfig(Rule):
    code = "NC303"
    name = "environment-read-outside-config"
    severity = "warning"
    message = "environment variable {var} read in {module}, outside the config"
    fix_title = "Read it once in nanochat/config.py and pass the config field instead"
    tags = ("configuration",)
    prefilter = ("environ", "getenv")
    exempt_paths_option = "config_paths"
    include = ("nanochat/*",)
    options = {
        "allowed_vars": Option(
            default=_TORCHRUN, doc="variables that may be read anywhere", kind=(tuple, list)
        ),
        "config_paths": Option(
            default=("*/config.py", "*/device.py", "*/configs/*"),
            doc="path globs where reading the environment is allowed",
            kind=(tuple, list),
        ),
    }

    def __init__(self, context) -> None:
        super().__init__(context)

    def visit_Call(self, node: cst.Call) -> None:
        if call_name(node) in ("os.environ.get", "os.getenv", "environ.get", "getenv"):
            args = positional(node)
            self._found(node, args[0].value if args else None)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if dotted(node.value) in ("os.environ", "environ") and len(node.slice) == 1:
            index = node.slice[0].slice
            self._found(node, index.value if isinstance(index, cst.Index) else None)

    def visit_Del(self, node: cst.Del) -> None:
        self._written.add(id(node.target))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Subscript):
                self._written.add(id(target.target))

    def _found(self, node: cst.CSTNode, name_expr: cst.BaseExpression | None) -> None:
        if id(node) in self._written:
            return
        name = string_value(name_expr)
        if name in self.option("allowed_vars"):
            return
        var = repr(name) if name is not None else "(computed name)"
        self.report(node, var=var, module=self.context.module)

    @property
    def _written(self) -> set[int]:
        if "_written_ids" not in self.__dict__:
            self._written_ids: set[int] = set()
        return self._written_ids
