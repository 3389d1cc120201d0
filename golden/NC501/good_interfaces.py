# harness-golden: path=harness/research/proposers.py
"""Interfaces, overloads and hooks may have empty bodies; real functions do work."""

from __future__ import annotations

import abc
from typing import Protocol, overload


class Proposer(Protocol):
    def propose(self, history: list[str]) -> str: ...


class Launcher(abc.ABC):
    @abc.abstractmethod
    def launch(self, command: list[str]) -> int:
        raise NotImplementedError


class BaseCallback:
    def on_step_end(self, step: int) -> None:
        pass

    def on_eval(self, metrics: dict) -> None:
        raise NotImplementedError


class Reporter:
    def emit(self, line: str) -> None:
        raise NotImplementedError


class JsonReporter(Reporter):
    def emit(self, line: str) -> None:
        self.lines = [*getattr(self, "lines", []), line]


@overload
def parse(value: int) -> int: ...
@overload
def parse(value: str) -> str: ...
def parse(value):
    return value


def noop() -> None:
    """Deliberately does nothing: the offline proposer's cleanup hook."""


class GateError(Exception):
    pass


class Optimizer:
    def step(self, closure=None):
        raise NotImplementedError


class SymbolicInt(int):
    def __add__(self, other):
        raise NotImplementedError("symbolic ints do not support +")


def dummy_worker_init(worker_id: int) -> None:
    pass


def _forward_unimplemented(self, *inputs) -> None:
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


def nonzero_vmap(info, in_dims, x):
    raise NotImplementedError("Operator is data-dependent and cannot be vmapped.")


class QuietCallback(BaseCallback):
    def on_step_end(self, step: int) -> None:
        """Deliberately silent: this callback only overrides on_eval."""
