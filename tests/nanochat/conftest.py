"""Shared fixtures: a tiny real corpus, prepared once per test session, for data and trainer tests.

``prepared_data`` (session scope) copies the Python tutorial's reStructuredText sources
(tutorial/*.rst.txt from python3.11-doc, 17 files, about 260 KB) into a temporary corpus
directory and runs the real ``nanochat.data.prepare`` on it with vocab size 512 into a temporary
base dir. With the default DataConfig split (val_fraction 0.05, seed 1337) two files land in
validation (tutorial/inputoutput and tutorial/whatnow): 185 train documents (116,773 tokens) and
18 val documents (12,028 tokens). It returns a ``PreparedData`` with ``base_dir``,
``corpus_dir``, ``vocab_size``, ``data_cfg`` (a DataConfig pointing at the corpus),
``tokenizer`` (the loaded Tokenizer), ``shard_dir`` (where the shards and manifest are) and
``env`` (the two environment variables that make defaults resolve to it). Treat it as read-only.

``prepared_env`` (function scope) also sets NANOCHAT_BASE_DIR and NANOCHAT_CORPUS_DIR for the
test, so ``get_tokenizer(512)``, ``PackedLoader(..., DataConfig(), ...)`` and subprocesses such as
``python -m nanochat.train --vocab-size 512`` all find the prepared data without extra flags.

Both skip when python3.11-doc is missing (run ``bash ci/ensure-corpus.sh``).

Example::

    def test_loss_falls(prepared_env):
        tok = prepared_env.tokenizer
        loader = PackedLoader("train", 4, 64, tok, prepared_env.data_cfg, "cpu")
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nanochat.config import DataConfig
from nanochat.data import prepare
from nanochat.dataset import DEFAULT_CORPUS_DIR, data_dir
from nanochat.tokenizer import Tokenizer, tokenizer_dir

TINY_VOCAB_SIZE = 512
TUTORIAL_DIR = Path(DEFAULT_CORPUS_DIR) / "tutorial"


@dataclass(frozen=True)
class PreparedData:
    base_dir: Path
    corpus_dir: Path
    vocab_size: int
    data_cfg: DataConfig
    tokenizer: Tokenizer
    shard_dir: Path  # base_dir/data/<corpus-id>/vocab512, holding train/, val/ and manifest.json
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def prepared_data(tmp_path_factory: pytest.TempPathFactory) -> PreparedData:
    if not TUTORIAL_DIR.is_dir():
        pytest.skip(
            f"{TUTORIAL_DIR} missing: run `bash ci/ensure-corpus.sh` to install python3.11-doc"
        )
    root = tmp_path_factory.mktemp("nanochat_prepared")
    corpus_dir = root / "corpus"
    shutil.copytree(TUTORIAL_DIR, corpus_dir / "tutorial")
    base = root / "base"
    env = {"NANOCHAT_BASE_DIR": str(base), "NANOCHAT_CORPUS_DIR": str(corpus_dir)}
    data_cfg = DataConfig(corpus_dir=str(corpus_dir))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        prepare(data_cfg, TINY_VOCAB_SIZE, num_threads=2)
        tokenizer = Tokenizer.load(tokenizer_dir(TINY_VOCAB_SIZE))
        shard_dir = data_dir(data_cfg, TINY_VOCAB_SIZE)
    return PreparedData(base, corpus_dir, TINY_VOCAB_SIZE, data_cfg, tokenizer, shard_dir, env)


@pytest.fixture
def prepared_env(prepared_data: PreparedData, monkeypatch: pytest.MonkeyPatch) -> PreparedData:
    for key, value in prepared_data.env.items():
        monkeypatch.setenv(key, value)
    return prepared_data
