"""Randomness without a seed makes runs irreproducible.

What it does
Flags randomness that no seed in the program controls. Precisely:

- a generator constructed without a seed (``random.Random()``, ``np.random.default_rng()``,
  ``np.random.RandomState()``) and assigned to a name on which this module never calls
  ``.seed(...)`` / ``.manual_seed(...)``;
- a call to Python's global ``random`` functions (``random.random``, ``shuffle``, ``choice``...)
  or numpy's legacy global ``np.random.*`` functions in a module that never seeds that global
  generator (``random.seed(...)`` / ``np.random.seed(...)``);
- a call to torch's global sampling functions (``torch.rand``, ``randn``, ``randint``,
  ``randperm``, ``multinomial``, ``bernoulli``, ``normal``) without ``generator=`` in an entry-point
  module (one with an ``if __name__ == "__main__":`` block) that never calls
  ``torch.manual_seed``, or in a data module (see Options). Other library modules (the model's
  weight init) may use torch's global generator: the entry point that imports them is where the
  seed belongs, and that module is checked. Data modules may not: the data order must not depend
  on how many random numbers model initialisation happened to draw.

Why is this bad?
An unseeded run cannot be reproduced, so a change in val_bpb cannot be told apart from seed
noise (about 0.0007 bpb at a fixed 5-minute budget). Data order and splits drawn from an
unseeded generator also differ between the training and the evaluation process.

Example
    import random

    def split(docs):
        random.shuffle(docs)
        return docs[:-100], docs[-100:]

Use instead
    import random

    def split(docs, seed):
        random.Random(seed).shuffle(docs)
        return docs[:-100], docs[-100:]

Fix safety
No automatic fix: the seed has to come from the config.

Options
generator_paths: path globs of data modules where torch sampling needs ``generator=`` (default
``*/data.py``, ``*/data/*``, ``*/dataloader*.py``, ``*/dataset*.py``).
"""

from __future__ import annotations

import fnmatch

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._syntax import TEST_PATHS, call_name, dotted, is_main_guard, keyword

_PY_GLOBAL = frozenset(
    {"random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform"}
    | {"gauss", "normalvariate", "getrandbits", "randbytes", "betavariate", "expovariate"}
)
_NP_NOT_GLOBAL = frozenset({"seed", "default_rng", "Generator", "RandomState", "SeedSequence"})
_NP_NOT_GLOBAL |= {"PCG64", "MT19937", "Philox", "SFC64", "BitGenerator", "get_state", "set_state"}
_TORCH_GLOBAL = frozenset(
    {"rand", "randn", "randint", "randperm", "multinomial", "bernoulli", "normal", "poisson"}
    | {"rand_like", "randn_like", "randint_like"}
)
_GENERATORS = frozenset(
    {"random.Random", "np.random.default_rng", "numpy.random.default_rng", "np.random.RandomState"}
    | {"numpy.random.RandomState"}
)
_TORCH_SEEDS = frozenset(
    {"torch.manual_seed", "torch.random.manual_seed", "torch.cuda.manual_seed"}
)
_TORCH_SEEDS |= {"torch.cuda.manual_seed_all", "seed_everything", "set_seed", "seed_all"}


class UnseededRandomness(Rule):
    code = "NC201"
    name = "unseeded-randomness"
    severity = "error"
    message = "`{call}(...)` draws from {rng} that nothing in this module seeds"
    fix_title = (
        "Use a generator seeded from the config (random.Random(seed), np.random.default_rng(seed))"
    )
    tags = ("reproducibility",)
    prefilter = ("random", "rand")
    exclude = TEST_PATHS
    options = {
        "generator_paths": Option(
            default=("*/data.py", "*/data/*", "*/dataloader*.py", "*/dataset*.py"),
            doc="path globs where torch sampling must use an explicit generator=",
            kind=(tuple, list),
        )
    }

    def __init__(self, context) -> None:
        super().__init__(context)
        self._candidates: list[tuple[cst.Call, str, str]] = []  # (call, family, name)
        self._seeded: set[str] = set()
        self._is_entry_point = False
        self._generators: list[tuple[cst.Call, str]] = []  # unseeded constructions
        self._assigned: dict[int, str] = {}  # id(call) -> the name it is assigned to
        self._reseeded: set[str] = set()  # names on which .seed()/.manual_seed() is called

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and len(node.targets) == 1:
            target = dotted(node.targets[0].target)
            if target:
                self._assigned[id(node.value)] = target

    def visit_If(self, node: cst.If) -> None:
        if is_main_guard(node.test):
            self._is_entry_point = True

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        if not name:
            return
        parts = name.split(".")
        if name in _GENERATORS:
            if not node.args:
                self._generators.append((node, name))
            return
        if parts[-1] in ("seed", "manual_seed") and len(parts) > 1:
            self._reseeded.add(".".join(parts[:-1]))
        if name in ("random.seed",):
            self._seeded.add("random")
        elif name in ("np.random.seed", "numpy.random.seed"):
            self._seeded.add("numpy")
        elif name in _TORCH_SEEDS:
            self._seeded.add("torch")
        elif len(parts) == 2 and parts[0] == "random" and parts[1] in _PY_GLOBAL:
            self._candidates.append((node, "random", name))
        elif (
            parts[:-1] in (["np", "random"], ["numpy", "random"])
            and parts[-1] not in _NP_NOT_GLOBAL
        ):
            self._candidates.append((node, "numpy", name))
        elif len(parts) == 2 and parts[0] == "torch" and parts[1] in _TORCH_GLOBAL:
            if keyword(node, "generator") is None:
                self._candidates.append((node, "torch", name))

    def _torch_must_be_seeded(self) -> bool:
        if self._is_entry_point:
            return True
        return any(fnmatch.fnmatch(self.context.path, g) for g in self.option("generator_paths"))

    def leave_Module(self, original_node: cst.Module) -> None:
        for node, name in self._generators:
            if self._assigned.get(id(node)) not in self._reseeded:
                self.report(node, message=f"`{name}()` creates a generator without a seed")
        labels = {
            "random": "Python's global random generator",
            "numpy": "numpy's global random generator",
            "torch": "torch's global generator (pass generator=)",
        }
        for node, family, name in self._candidates:
            if family in self._seeded or (family == "torch" and not self._torch_must_be_seeded()):
                continue
            self.report(node, call=name, rng=labels[family])
