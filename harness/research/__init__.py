"""``harness research``: the autoresearch loop, with the harness as its judge.

A proposer (an LLM with tools, or an offline search over config knobs) changes the editable
surface; the change is committed in the worker's own git worktree, checked by the fast gates
under the research base's pinned policy, trained under a fixed budget in a subprocess, scored by
the sealed evaluator in another process, and kept only when the gain clears the noise floor
measured at ``research init`` and reproduces with a second seed. Everything lands in an
append-only ledger (``results.tsv`` for autoresearch's tools, ``research.jsonl`` for the rest).

Modules: ``settings`` (the ``[tool.harness.research]`` table), ``ledger`` (durable records),
``proposal`` (what a proposer returns), ``surface`` (what it may touch), ``worktree`` (git),
``trial`` (train + sealed evaluation of one commit, the unit a launcher runs), ``sealed_eval``
and ``dataview`` (the evaluator process and the training data view), ``noise`` (margins and
decisions), ``offline`` and ``anthropic_proposer`` (proposers), ``ideas`` (the humans' list),
``launchers`` (local pool, submitit, Ray), ``lab`` (a tag's state and paths), ``experiment``
(one experiment, propose to decide), ``loop`` (init and run), ``promote``, ``report``.
"""
