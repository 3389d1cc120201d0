"""What the trainer may read and what the evaluator is pinned to: the data side of a sealed trial.

``pin_evaluator`` exports the research base's whole ``nanochat/`` into a folder and records, from
that copy (in a subprocess, so this harness's own nanochat never answers), the base's
``DataConfig`` values, the vocabulary size and the eval sequence length, plus the SHA-256 of
every file the evaluator reads (the tokenizer, the val shards, the manifest) and of the pinned
code itself, in ``pinned.json``. ``verify_pinned`` re-hashes them before each scoring.

``training_view`` builds a ``NANOCHAT_BASE_DIR`` that holds the tokenizer, the manifest and the
train shards but no val split. ``audited_train_command`` starts ``python -m nanochat.train``
behind an audit hook (``sys.addaudithook``; a candidate cannot remove it) that logs every open or
listing of the real val split, the pinned folder or the corpus files that feed validation. The
hook is a canary, not a sandbox: code that makes raw system calls is not seen.

Every child this package starts runs ``child_prelude`` first: on Linux it asks the kernel to
SIGKILL the child when the harness dies (``PR_SET_PDEATHSIG``), so a ``kill -9`` of the harness
takes its trainers with it. Doing it in the child, not in ``preexec_fn``, keeps it safe when a
launcher runs trials from threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import git
from harness.errors import HarnessError

PINNED_FILE = "pinned.json"
PIN_TIMEOUT_S = 300.0  # hashing a FineWeb-sized val shard takes seconds; this only stops a hang
_HASH_CHUNK = 1 << 20  # bytes per hash update
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def child_prelude() -> str:
    """Python source a child runs first: die with this process (Linux), whatever it runs next."""
    return (
        "import os, signal, sys\n"
        "if sys.platform == 'linux':\n"
        "    import ctypes\n"
        f"    ctypes.CDLL(None, use_errno=True).prctl({_PR_SET_PDEATHSIG}, signal.SIGKILL)\n"
        f"    if os.getppid() != {os.getpid()}:\n"
        "        os._exit(137)  # the harness died before prctl took effect\n"
    )


def harness_command(module: str, function: str = "main") -> list[str]:
    """The argv prefix that runs ``module.function(argv)`` from this harness's own files.

    The harness's folder also holds a ``nanochat/``; it is taken off ``sys.path`` once the module
    is imported, so the child's ``import nanochat`` finds the one on PYTHONPATH (``-P`` keeps the
    working directory off the path too).
    """
    import harness

    checker = str(Path(harness.__file__).resolve().parent.parent)
    boot = child_prelude() + (
        f"sys.path.insert(0, {checker!r})\n"
        f"from {module} import {function} as _entry\n"
        f"sys.path.remove({checker!r})\n"
        "for _name in [m for m in sys.modules if m.partition('.')[0] == 'nanochat']:\n"
        "    del sys.modules[_name]  # imported from the harness's folder, not PYTHONPATH's\n"
        "sys.exit(_entry(sys.argv[1:]))\n"
    )
    return [sys.executable, "-P", "-c", boot]


def pin_evaluator(repo_root: Path, base_commit: str, dest: Path, train_args: Sequence[str]) -> dict:
    """Export the base's ``nanochat/`` into ``dest`` and write ``dest/pinned.json`` (returned)."""
    dest = Path(dest).resolve()
    if (dest / "nanochat").exists():
        shutil.rmtree(dest / "nanochat")
    dest.mkdir(parents=True, exist_ok=True)
    commit = git.resolve(Path(repo_root), base_commit)
    git.export_tree(Path(repo_root), commit, ["nanochat"], dest)
    if not (dest / "nanochat" / "__init__.py").is_file():
        raise HarnessError(f"{commit}: has no nanochat/ package; pin a commit that has one")
    env = {**os.environ, "PYTHONPATH": str(dest), "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("NANOCHAT_BASE_DIR", "NANOCHAT_CORPUS_DIR"):
        if env.get(key):
            env[key] = str(Path(env[key]).expanduser().resolve())  # the child runs elsewhere
    args = [*harness_command("harness.research.dataview", "describe_main"), *train_args]
    try:
        done = subprocess.run(
            args, cwd=dest, env=env, capture_output=True, text=True, timeout=PIN_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as err:
        raise HarnessError(
            f"{dest}: describing the pinned data took over {PIN_TIMEOUT_S:g} s"
        ) from err
    lines = done.stdout.strip().splitlines()
    try:
        described = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as err:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise HarnessError(
            f"{dest}: the pinned nanochat failed to describe its data: {tail}"
        ) from err
    if "error" in described:
        raise HarnessError(described["error"])
    code = sorted(
        p for p in (dest / "nanochat").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    pinned = {
        **described,
        "base_commit": commit,
        "train_args": list(train_args),
        "pinned_dir": str(dest),
        "nanochat_dir": str(dest / "nanochat"),
        "hashes": {**described["hashes"], **{str(p): file_sha256(p) for p in code}},
    }
    (dest / PINNED_FILE).write_text(json.dumps(pinned, indent=2, sort_keys=True) + "\n")
    return pinned


def load_pinned(pinned_dir: str | Path) -> dict:
    path = Path(pinned_dir) / PINNED_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise HarnessError(
            f"{path}: no pinned evaluator here ({err}); run `harness research init`"
        ) from err


def verify_pinned(pinned: dict) -> str:
    """ "" when every hashed file is as pinned, else one line naming the first one that is not."""
    for path, expected in sorted(pinned["hashes"].items()):
        try:
            found = file_sha256(Path(path))
        except OSError:
            return (
                f"{path}: missing since the evaluator was pinned; run `harness research init` again"
            )
        if found != expected:
            return f"{path}: changed since the evaluator was pinned (sha256 {found[:12]}, pinned {expected[:12]})"
    return ""


def training_view(pinned: dict, view_dir: Path) -> Path:
    """A NANOCHAT_BASE_DIR with the tokenizer, the manifest and the train split, and no val split.

    The small files are copied, so a trainer cannot write through to the prepared originals; the
    train shards are symlinked one by one.
    """
    base = Path(view_dir).resolve()
    if base.exists():
        shutil.rmtree(base)
    real_base = Path(pinned["base_dir"])
    tokenizer = base / Path(pinned["tokenizer_dir"]).relative_to(real_base)
    shutil.copytree(pinned["tokenizer_dir"], tokenizer)
    data = base / Path(pinned["data_dir"]).relative_to(real_base)
    (data / "train").mkdir(parents=True)
    shutil.copy2(pinned["manifest"], data / Path(pinned["manifest"]).name)
    for shard in sorted(Path(pinned["train_dir"]).iterdir()):
        (data / "train" / shard.name).symlink_to(shard)
    return base


def watched_paths(pinned: dict) -> list[str]:
    """What training must never open or list: the real val split, the pinned folder, val sources."""
    paths = [pinned["val_dir"], pinned["pinned_dir"], *pinned.get("val_sources", [])]
    return [os.path.realpath(p) for p in paths]


def audited_train_command(log_path: Path, watched: Sequence[str]) -> list[str]:
    """The argv prefix that runs ``python -m nanochat.train`` behind the validation audit hook.

    The hook appends ``EVENT PATH`` to ``log_path`` for each ``open``, ``os.listdir`` or
    ``os.scandir`` of a path in or under ``watched`` (symlinks resolved); append the trainer's
    flags to the returned list.
    """
    hook = child_prelude() + (
        "import runpy, threading\n"
        f"_LOG = {str(Path(log_path).resolve())!r}\n"
        f"_WATCHED = {tuple(os.path.realpath(p) for p in watched)!r}\n"
        "_EVENTS = ('open', 'os.listdir', 'os.scandir')\n"
        "_state = threading.local()\n"
        "def _audit(event, args):\n"
        "    if event not in _EVENTS or getattr(_state, 'busy', False):\n"
        "        return\n"
        "    target = args[0] if args and args[0] is not None else '.'\n"
        "    if isinstance(target, int):\n"
        "        return\n"
        "    _state.busy = True  # realpath and the log write raise events of their own\n"
        "    try:\n"
        "        full = os.path.realpath(os.fsdecode(target))\n"
        "        if any(full == w or full.startswith(w + os.sep) for w in _WATCHED):\n"
        "            fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)\n"
        "            os.write(fd, f'{event} {full}\\n'.encode('utf-8', 'replace'))\n"
        "            os.close(fd)\n"
        "    except (OSError, TypeError, ValueError):\n"
        "        pass  # an odd path argument must not break the trainer; opening it fails anyway\n"
        "    finally:\n"
        "        _state.busy = False\n"
        "sys.addaudithook(_audit)\n"
        "sys.argv = ['nanochat.train', *sys.argv[1:]]\n"
        "runpy.run_module('nanochat.train', run_name='__main__', alter_sys=True)\n"
    )
    return [sys.executable, "-P", "-c", hook]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_main(argv: list[str]) -> int:
    """Child entry (pinned nanochat on PYTHONPATH): print the base's data facts as one JSON line."""
    try:
        described = _describe(argv)
    except HarnessError as err:
        described = {"error": str(err)}
    sys.stdout.write(json.dumps(described) + "\n")
    return 0


def _describe(train_args: list[str]) -> dict:
    from dataclasses import asdict

    import nanochat
    from nanochat import dataset
    from nanochat.config import base_dir
    from nanochat.flags import build_parser, config_from_args
    from nanochat.tokenizer import tokenizer_dir

    found = Path(nanochat.__file__).resolve().parent
    expected = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]).resolve() / "nanochat"
    if found != expected:
        raise HarnessError(f"{found}: imported instead of the pinned {expected}; check PYTHONPATH")
    cfg = config_from_args(build_parser().parse_known_args(train_args)[0])
    data_cfg, vocab = cfg.data, cfg.model.vocab_size
    hint = f"run `python -m nanochat.data prepare --vocab-size {vocab}`"
    fields = asdict(data_cfg)
    if not data_cfg.parquet_dir:
        fields["corpus_dir"] = str(dataset.resolve_corpus_dir(data_cfg).expanduser().resolve())
    data_cfg = type(data_cfg)(**fields)
    data_dir = dataset.data_dir(data_cfg, vocab).resolve()
    manifest = dataset.read_manifest(data_dir)
    tokenizer = tokenizer_dir(vocab).resolve()
    if manifest is None or not tokenizer.is_dir() or not any(tokenizer.iterdir()):
        raise HarnessError(f"{data_dir}: no prepared data for vocab size {vocab}; {hint}")
    val_dir = dataset.split_dir(data_cfg, vocab, "val").resolve()
    val_files = [
        val_dir / f"{name}{suffix}"
        for name in manifest["splits"]["val"]["shards"]
        for suffix in (".tokens.npy", ".offsets.npy")
    ]
    missing = [p for p in val_files if not p.is_file()]
    if missing:
        raise HarnessError(f"{missing[0]}: val shard missing; {hint}")
    hashed = [*sorted(p for p in tokenizer.iterdir() if p.is_file()), *val_files]
    hashed.append(data_dir / dataset.MANIFEST)
    return {
        "data": fields,
        "vocab_size": vocab,
        "sequence_len": cfg.model.sequence_len,
        "base_dir": str(base_dir().expanduser().resolve()),
        "tokenizer_dir": str(tokenizer),
        "data_dir": str(data_dir),
        "train_dir": str(dataset.split_dir(data_cfg, vocab, "train").resolve()),
        "val_dir": str(val_dir),
        "manifest": str(data_dir / dataset.MANIFEST),
        "val_sources": _val_sources(data_cfg),
        "hashes": {str(p): file_sha256(p) for p in hashed},
    }


def _val_sources(data_cfg) -> list[str]:
    """The corpus files whose text became the val split (none when the corpus has moved)."""
    from nanochat import dataset
    from nanochat.config import NanochatError

    try:
        source = dataset.find_source(data_cfg)
    except NanochatError:
        return []
    if source.kind == "parquet":
        return [str(p.resolve()) for p in dataset.parquet_files(source, "val")]
    return [
        str(p.resolve())
        for p in source.files
        if dataset.is_val(p.relative_to(source.root).as_posix(), data_cfg)
    ]
