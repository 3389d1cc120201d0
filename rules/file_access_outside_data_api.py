"""Training code opens files outside the data API, a way to peek at validation data.

What it does
Flags reads from the filesystem in nanochat modules other than the data API (the data, dataset,
dataloader, tokenizer, checkpoint, config, device and report modules, and the sealed evaluation
modules, ``*eval*``): ``open()`` for reading (no mode, or a mode without ``w``/``a``/``x``),
``Path.read_text``/``read_bytes``, ``np.load``/``np.fromfile``/``np.memmap``, ``torch.load``,
``pd.read_*``, ``pq.read_table``/ ``ParquetFile``, ``json.load``/``pickle.load``, Hugging Face
``load_dataset``/``load_from_disk``, and directory listings (``os.listdir``, ``os.scandir``,
``os.walk``, ``glob.glob``, ``Path.glob``/``rglob``/``iterdir``). Writing files (logs, summaries)
is not flagged.

Why is this bad?
Training and model code should see data only through the data API, which serves the training
split and nothing else. A direct read is how validation text leaks into training (a
"tokenizer fit on everything", a shard listing that includes the last, held-out shard), and it
makes the sealed evaluation's promise, "the model never saw this", unverifiable.

Example
    # nanochat/train.py
    shards = sorted(os.listdir(cfg.data.parquet_dir))
    text = open(shards[-1]).read()

Use instead
    # nanochat/train.py
    loader = data.train_loader(cfg, tokenizer)  # the data API hides the validation shard

Fix safety
No automatic fix: the read has to move behind the data API.

Options
data_api_paths: path globs of the modules allowed to read files.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._syntax import (
    TEST_PATHS,
    call_name,
    keyword,
    method_name,
    positional,
    snippet,
    string_value,
)

_READ_CALLS = frozenset(
    {
        "np.load",
        "numpy.load",
        "np.fromfile",
        "numpy.fromfile",
        "np.memmap",
        "numpy.memmap",
        "np.loadtxt",
    }
    | {
        "torch.load",
        "pq.read_table",
        "pq.ParquetFile",
        "pyarrow.parquet.read_table",
        "pq.read_metadata",
    }
    | {"os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob", "json.load", "pickle.load"}
    | {"load_dataset", "datasets.load_dataset", "load_from_disk", "datasets.load_from_disk"}
)
_READ_METHODS = frozenset({"read_text", "read_bytes", "iterdir", "rglob"})
_DATA_API = (
    "nanochat/data.py",
    "nanochat/data/*",
    "nanochat/dataset*.py",
    "nanochat/dataloader*.py",
    "nanochat/tokenizer*.py",
    "nanochat/checkpoint*.py",
    "nanochat/config.py",
    "nanochat/device.py",
    "nanochat/report*.py",
    "nanochat/corpus*.py",
    "nanochat/*eval*.py",
)


class FileAccessOutsideDataApi(Rule):
    code = "NC401"
    name = "file-access-outside-data-api"
    severity = "error"
    message = "`{call}` reads the filesystem in {module}, outside the data API"
    fix_title = (
        "Get the data through the data API (nanochat.data), which serves only the training split"
    )
    tags = ("evaluation-integrity", "data")
    prefilter = (
        "open(",
        "read_",
        "load(",
        "listdir",
        "scandir",
        "walk(",
        "glob",
        "iterdir",
        "fromfile",
        "memmap",
        "Parquet",
    )
    include = ("nanochat/*",)
    exclude = TEST_PATHS
    exempt_paths_option = "data_api_paths"
    options = {
        "data_api_paths": Option(
            default=_DATA_API, doc="path globs allowed to read files", kind=(tuple, list)
        )
    }

    def __init__(self, context) -> None:
        super().__init__(context)

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node) or ""
        method = method_name(node)
        call = None
        if name in ("open", "io.open", "builtins.open"):
            call = f"{name}(...)" if _opens_for_reading(node, 1) else None
        elif name in _READ_CALLS or name.startswith(("pd.read_", "pandas.read_")):
            call = f"{name}(...)"
        elif method in _READ_METHODS or (
            method == "glob" and not name.startswith(("glob.", "fnmatch."))
        ):
            call = f".{method}(...)"
        elif (
            method == "open"
            and not name.startswith(("os.", "io.", "gzip.", "zipfile."))
            and _opens_for_reading(node, 0)
        ):
            call = ".open(...)"
        if call:
            self.report(node, call=snippet(node, 40), module=self.context.module)


def _opens_for_reading(node: cst.Call, mode_index: int) -> bool:
    """True unless the mode is a literal that writes (``w``, ``a``, ``x``)."""
    mode_arg = keyword(node, "mode")
    if mode_arg is None:
        args = positional(node)
        mode_arg = args[mode_index] if len(args) > mode_index else None
    if mode_arg is None:
        return True
    value = mode_arg.value
    choices = (value.body, value.orelse) if isinstance(value, cst.IfExp) else (value,)
    modes = [string_value(choice) for choice in choices]
    return any(mode is None or not any(c in mode for c in "wax") for mode in modes)
