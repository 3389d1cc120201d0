"""Tests for corpus preparation: shards, idempotence, the fixed split, parquet input, errors."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nanochat.config import DataConfig, NanochatError
from nanochat.data import main, prepare
from nanochat.dataset import (
    CorpusSource,
    chunk_text,
    data_dir,
    find_source,
    is_val,
    load_shard,
    read_manifest,
    text_documents,
)
from nanochat.tokenizer import get_tokenizer

WORDS = (
    "the model reads every token once and learns which byte pairs come together often enough "
    "to merge while validation text stays untouched by training so the metric remains honest"
).split()
SMALL_VOCAB = 300


def write_corpus(root: Path, n_files: int, seed: int = 0) -> Path:
    """n_files small English-like documents of seeded random length under root/docs/."""
    rng = random.Random(seed)
    for i in range(n_files):
        words = [rng.choice(WORDS) for _ in range(rng.randint(5, 120))]
        path = root / "docs" / f"doc{i:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Document {i}. " + " ".join(words) + ".\n", encoding="utf-8")
    return root


def shard_docs(directory: Path) -> list[np.ndarray]:
    manifest = read_manifest(directory.parent)
    docs = []
    for name in manifest["splits"][directory.name]["shards"]:
        tokens, offsets = load_shard(directory, name)
        docs.extend(tokens[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True))
    return docs


@pytest.fixture
def small_base(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path / "base"))
    return tmp_path


def test_every_prepared_document_starts_with_bos_and_holds_no_other(prepared_data):
    tok = prepared_data.tokenizer
    out = prepared_data.shard_dir
    for split in ("train", "val"):
        docs = shard_docs(out / split)
        assert docs, f"{split} split is empty"
        assert all(doc[0] == tok.bos_id for doc in docs)
        assert all((doc[1:] != tok.bos_id).all() for doc in docs)


def test_validation_shards_hold_exactly_the_validation_files(prepared_data):
    tok = prepared_data.tokenizer
    out = prepared_data.shard_dir
    val_docs = [tok.decode(doc[1:].tolist()) for doc in shard_docs(out / "val")]
    train_text = "".join(tok.decode(doc[1:].tolist()) for doc in shard_docs(out / "train"))
    corpus = prepared_data.corpus_dir / "tutorial"
    expected = [
        chunk
        for name in ("inputoutput.rst.txt", "whatnow.rst.txt")
        for chunk in chunk_text((corpus / name).read_text(), DataConfig().max_doc_chars)
    ]
    assert sorted(val_docs) == sorted(expected)
    assert val_docs != expected, "documents should be written in shuffled order"
    assert "Fancier Output Formatting" not in train_text


def test_second_prepare_is_a_noop_that_rewrites_nothing(prepared_env):
    out = data_dir(prepared_env.data_cfg, prepared_env.vocab_size)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    result = prepare(prepared_env.data_cfg, prepared_env.vocab_size)
    assert result.skipped
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_editing_a_corpus_file_triggers_a_rebuild(small_base):
    corpus = write_corpus(small_base / "corpus", 30)
    cfg = DataConfig(corpus_dir=str(corpus), val_fraction=0.2)
    first = prepare(cfg, SMALL_VOCAB, num_threads=1)
    (corpus / "docs" / "doc000.txt").write_text("A brand new first document.\n")
    second = prepare(cfg, SMALL_VOCAB, num_threads=1)
    assert not first.skipped and not second.skipped
    assert first.manifest["settings"]["corpus_hash"] != second.manifest["settings"]["corpus_hash"]
    assert prepare(cfg, SMALL_VOCAB, num_threads=1).skipped


def test_prepare_is_deterministic_across_base_dirs(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", 30)
    cfg = DataConfig(corpus_dir=str(corpus), val_fraction=0.2)
    manifests = []
    for name in ("a", "b"):
        monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path / name))
        prepare(cfg, SMALL_VOCAB, num_threads=2)
        manifests.append(read_manifest(data_dir(cfg, SMALL_VOCAB)))
        tokens, _ = load_shard(data_dir(cfg, SMALL_VOCAB) / "train", "shard_00000")
        manifests[-1]["train_tokens"] = tokens.tolist()
    assert manifests[0] == manifests[1]


def test_adding_files_never_moves_existing_documents_between_splits(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 40)
    cfg = DataConfig(corpus_dir=str(corpus), val_fraction=0.3)
    before = {d.key for d in text_documents(find_source(cfg), cfg, "val")}
    write_corpus(tmp_path / "more", 40, seed=1)
    (tmp_path / "more" / "docs").rename(corpus / "extra")
    after = {d.key for d in text_documents(find_source(cfg), cfg, "val")}
    assert before and before < after


def test_val_membership_is_a_seeded_hash_of_the_relative_path():
    cfg = DataConfig(val_fraction=0.5, split_seed=7)
    paths = [f"dir/file{i}.txt" for i in range(400)]
    members = [is_val(p, cfg) for p in paths]
    assert members == [is_val(p, cfg) for p in paths]
    assert 150 < sum(members) < 250  # binomial(400, 0.5): 5 sigma is +-50
    assert members != [is_val(p, replace(cfg, split_seed=8)) for p in paths]


def test_long_text_is_chunked_at_headings_then_blank_lines():
    section = "Title\n=====\n\n" + "para one.\n\n" * 3
    text = section + "Other\n-----\n\n" + "word " * 40 + "\n\nshort tail.\n"
    chunks = chunk_text(text, max_chars=len(section))
    assert "".join(chunks) == text
    assert chunks[0] == section
    assert chunks[1].startswith("Other\n-----")
    assert chunks[-1] == "short tail.\n"


def write_parquet(path: Path, texts: list[str], rows_per_group: int = 3) -> None:
    pq.write_table(
        pa.table({"id": list(range(len(texts))), "text": texts}),
        path,
        row_group_size=rows_per_group,
    )


def test_parquet_shards_are_prepared_with_the_last_shard_as_validation(small_base):
    rng = random.Random(3)
    shards = [[" ".join(rng.choice(WORDS) for _ in range(30)) for _ in range(7)] for _ in range(3)]
    pq_dir = small_base / "parquet"
    pq_dir.mkdir()
    for i, texts in enumerate(shards):
        write_parquet(pq_dir / f"shard_{i:02d}.parquet", texts)
    cfg = DataConfig(parquet_dir=str(pq_dir))
    result = prepare(cfg, SMALL_VOCAB, num_threads=1)
    tok = get_tokenizer(SMALL_VOCAB)
    val = [tok.decode(d[1:].tolist()) for d in shard_docs(result.directory / "val")]
    train = [tok.decode(d[1:].tolist()) for d in shard_docs(result.directory / "train")]
    assert val == shards[2]
    assert train == shards[0] + shards[1]
    assert prepare(cfg, SMALL_VOCAB, num_threads=1).skipped


def test_parquet_without_a_text_column_names_the_shard(small_base):
    pq_dir = small_base / "parquet"
    pq_dir.mkdir()
    for name in ("a.parquet", "b.parquet"):
        pq.write_table(pa.table({"content": ["hello world"] * 4}), pq_dir / name)
    with pytest.raises(NanochatError, match=r"a\.parquet: no 'text' column \(columns: content\)"):
        prepare(DataConfig(parquet_dir=str(pq_dir)), SMALL_VOCAB)


def test_missing_corpus_dir_exits_2_with_one_error_line(small_base, capsys):
    missing = small_base / "nowhere"
    assert main(["prepare", "--corpus-dir", str(missing), "--vocab-size", "300"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {missing}: corpus directory not found; run `bash ci/ensure-corpus.sh` "
        "(installs python3.11-doc) or pass --corpus-dir"
    )


def test_cli_prepare_reports_then_reports_up_to_date(small_base, capsys):
    corpus = write_corpus(small_base / "corpus", 30)
    args = ["prepare", "--corpus-dir", str(corpus), "--vocab-size", "300", "--threads", "1"]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("prepared: ")
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("up to date: ")


def test_manifest_records_the_tokenizer_fingerprint(prepared_data):
    manifest = json.loads((prepared_data.shard_dir / "manifest.json").read_text())
    assert manifest["tokenizer_fingerprint"] == prepared_data.tokenizer.fingerprint
    assert (
        manifest["settings"]["corpus_id"]
        == CorpusSource("text", prepared_data.corpus_dir, ()).corpus_id
    )


def test_a_split_without_documents_is_a_one_line_error(small_base):
    corpus = write_corpus(small_base / "corpus", 30)
    with pytest.raises(
        NanochatError, match=r"the val split has no documents; .*adjust val_fraction$"
    ):
        prepare(DataConfig(corpus_dir=str(corpus), val_fraction=0.0), SMALL_VOCAB, num_threads=1)
