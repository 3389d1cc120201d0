"""Corpus reading and the on-disk shard format.

Two sources, chosen by DataConfig:

* a directory of text files (default: the reStructuredText sources of the Python 3.11 docs from
  Debian's python3.11-doc, PSF license). A file is cut into documents: runs of consecutive
  sections of at most ``max_doc_chars`` characters, split at section headings where possible and
  at blank lines otherwise. Validation membership is decided per file by a seeded hash of its
  relative path, so adding files never moves existing documents between splits.
* a directory of FineWeb/ClimbMix-style ``*.parquet`` shards with a ``text`` column; one row is
  one document, the last shard in sorted order is validation, and rows are streamed by row group.

Prepared shards live under ``base_dir()/data/<corpus-id>/vocab<N>/{train,val}/`` as pairs of
``shard_NNNNN.tokens.npy`` (uint16, or uint32 past 65536 ids: every document BOS-prefixed and
concatenated) and ``shard_NNNNN.offsets.npy`` (int64 [n_docs + 1] document start offsets).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanochat.config import DataConfig, NanochatError, base_dir

DEFAULT_CORPUS_DIR = "/usr/share/doc/python3.11/html/_sources"
TEXT_SUFFIXES = (".txt", ".rst", ".md")
MANIFEST = "manifest.json"
SPLITS = ("train", "val")
PREPARE_HINT = "run `python -m nanochat.data prepare`"
_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")
_HASH_CHUNK = 1 << 20  # bytes read per hash update


@dataclass(frozen=True)
class Document:
    key: str  # stable identity: relative path (text corpora: plus '#' and the chunk index)
    text: str


@dataclass(frozen=True)
class CorpusSource:
    kind: str  # "text" or "parquet"
    root: Path
    files: tuple[Path, ...]

    @property
    def corpus_id(self) -> str:
        return corpus_id_for(self.kind, self.root)

    def content_hash(self) -> str:
        """sha256 over every file's relative path and bytes."""
        digest = hashlib.sha256(self.kind.encode())
        for path in self.files:
            digest.update(b"\0" + path.relative_to(self.root).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                while chunk := handle.read(_HASH_CHUNK):
                    digest.update(chunk)
        return digest.hexdigest()


def resolve_corpus_dir(cfg: DataConfig) -> Path:
    """DataConfig.corpus_dir (which defaults to $NANOCHAT_CORPUS_DIR), else the Python docs."""
    return Path(cfg.corpus_dir or DEFAULT_CORPUS_DIR)


def corpus_id_for(kind: str, root: Path) -> str:
    resolved = root.expanduser().resolve()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", resolved.name).strip("-").lower() or "root"
    digest = hashlib.sha256(f"{kind}:{resolved}".encode()).hexdigest()[:10]
    return f"{kind}-{slug}-{digest}"


def corpus_id(cfg: DataConfig) -> str:
    if cfg.parquet_dir:
        return corpus_id_for("parquet", Path(cfg.parquet_dir))
    return corpus_id_for("text", resolve_corpus_dir(cfg))


def find_source(cfg: DataConfig) -> CorpusSource:
    if cfg.parquet_dir:
        root = Path(cfg.parquet_dir).expanduser()
        if not root.is_dir():
            raise NanochatError(
                f"{root}: parquet directory not found; pass an existing --parquet-dir"
            )
        files = tuple(sorted(root.glob("*.parquet")))
        if len(files) < 2:
            raise NanochatError(
                f"{root}: found {len(files)} *.parquet shards; need at least 2 (the last is validation)"
            )
        return CorpusSource("parquet", root, files)
    root = resolve_corpus_dir(cfg).expanduser()
    if not root.is_dir():
        raise NanochatError(
            f"{root}: corpus directory not found; run `bash ci/ensure-corpus.sh` "
            "(installs python3.11-doc) or pass --corpus-dir"
        )
    files = tuple(
        sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(TEXT_SUFFIXES))
    )
    if not files:
        raise NanochatError(
            f"{root}: no *.txt, *.rst or *.md files; pass a --corpus-dir with text files"
        )
    return CorpusSource("text", root, files)


def is_val(relpath: str, cfg: DataConfig) -> bool:
    """Seeded hash of the relative path -> uniform [0, 1); below val_fraction means validation."""
    digest = hashlib.sha256(f"{cfg.split_seed}:{relpath}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < cfg.val_fraction


def split_sections(text: str) -> list[str]:
    """Cut reStructuredText at section headings (title line + adornment, optional overline)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for i in range(1, len(lines)):
        title, underline = lines[i - 1].strip(), lines[i].strip()
        if not title or _ADORNMENT.match(lines[i - 1]) or not _ADORNMENT.match(lines[i]):
            continue
        if len(underline) < len(title):
            continue
        start = i - 1
        if start > 0 and lines[start - 1].strip() == underline:
            start -= 1
        if start > starts[-1]:
            starts.append(start)
    bounds = [*starts, len(lines)]
    return ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Greedy runs of sections (then paragraphs) of at most max_chars; 0 keeps the text whole."""
    if max_chars <= 0 or len(text) <= max_chars:
        return [text] if text.strip() else []
    units: list[str] = []
    for section in split_sections(text):
        if len(section) <= max_chars:
            units.append(section)
        else:
            units.extend(re.split(r"(?<=\n\n)", section))
    chunks: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + len(unit) > max_chars:
            chunks.append(current)
            current = ""
        current += unit
    chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


def read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NanochatError(
            f"{path}: not UTF-8 text ({exc.reason}); remove it from the corpus"
        ) from exc


def text_documents(source: CorpusSource, cfg: DataConfig, split: str) -> Iterator[Document]:
    for path in source.files:
        relpath = path.relative_to(source.root).as_posix()
        if is_val(relpath, cfg) != (split == "val"):
            continue
        for i, chunk in enumerate(chunk_text(read_text_file(path), cfg.max_doc_chars)):
            yield Document(f"{relpath}#{i}", chunk)


def parquet_files(source: CorpusSource, split: str) -> tuple[Path, ...]:
    return source.files[-1:] if split == "val" else source.files[:-1]


def parquet_row_groups(path: Path) -> Iterator[list[str]]:
    """The ``text`` column of one parquet shard, one list of strings per row group."""
    import pyarrow.parquet as pq

    try:
        shard = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise NanochatError(
            f"{path}: unreadable parquet ({exc}); replace or remove the shard"
        ) from exc
    if "text" not in shard.schema_arrow.names:
        raise NanochatError(
            f"{path}: no 'text' column (columns: {', '.join(shard.schema_arrow.names)}); "
            "provide shards with a text column"
        )
    for i in range(shard.num_row_groups):
        column = shard.read_row_group(i, columns=["text"]).column("text")
        yield [text for text in column.to_pylist() if text]


def split_dir(cfg: DataConfig, vocab_size: int, split: str) -> Path:
    return data_dir(cfg, vocab_size) / split


def data_dir(cfg: DataConfig, vocab_size: int) -> Path:
    return base_dir() / "data" / corpus_id(cfg) / f"vocab{vocab_size}"


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


class ShardWriter:
    """Appends BOS-prefixed token documents and writes a shard once it holds tokens_per_shard."""

    def __init__(self, directory: Path, tokens_per_shard: int, dtype: np.dtype):
        self.directory = directory
        self.tokens_per_shard = tokens_per_shard
        self.dtype = dtype
        self.names: list[str] = []
        self.total_docs = 0
        self.total_tokens = 0
        self._docs: list[list[int]] = []
        self._pending = 0
        directory.mkdir(parents=True, exist_ok=True)

    def add(self, doc_tokens: list[int]) -> None:
        self._docs.append(doc_tokens)
        self._pending += len(doc_tokens)
        if self._pending >= self.tokens_per_shard:
            self.flush()

    def flush(self) -> None:
        if not self._docs:
            return
        lengths = np.fromiter((len(d) for d in self._docs), dtype=np.int64, count=len(self._docs))
        offsets = np.zeros(len(self._docs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        tokens = np.fromiter(
            (t for doc in self._docs for t in doc), dtype=self.dtype, count=int(offsets[-1])
        )
        name = f"shard_{len(self.names):05d}"
        np.save(self.directory / f"{name}.tokens.npy", tokens)
        np.save(self.directory / f"{name}.offsets.npy", offsets)
        self.names.append(name)
        self.total_docs += len(self._docs)
        self.total_tokens += int(offsets[-1])
        self._docs, self._pending = [], 0


def read_manifest(directory: Path) -> dict | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def load_shard(directory: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, offsets) of one shard; document i is tokens[offsets[i]:offsets[i + 1]]."""
    tokens_path = directory / f"{name}.tokens.npy"
    offsets_path = directory / f"{name}.offsets.npy"
    if not tokens_path.is_file() or not offsets_path.is_file():
        raise NanochatError(f"{tokens_path}: shard missing; {PREPARE_HINT}")
    return np.load(tokens_path), np.load(offsets_path)
