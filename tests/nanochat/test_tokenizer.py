"""Tests for the rustbpe-trained, tiktoken-encoded tokenizer."""

from __future__ import annotations

import pytest
import torch

from nanochat.config import NanochatError
from nanochat.tokenizer import BOS, MIN_VOCAB_SIZE, Tokenizer, get_tokenizer

TRAIN_TEXTS = [
    "The quick brown fox jumps over the lazy dog. " * 20,
    "Über naïve café façade — déjà vu, 東京 and 北京 are cities. 😀🎉 " * 20,
    "def add(a, b):\n    return a + b\n\n" * 20,
    " ".join(f"token{i}" for i in range(300)),
]
SAMPLES = [
    "",
    "hello world",
    "  leading and trailing spaces  \n\n\ttabs\r\n",
    "naïve café Über — déjà vu",
    "東京タワー 北京 서울",
    "emoji 😀🎉👩‍👩‍👧 and flags 🇫🇷",
    "text that mentions <|bos|> literally",
]


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer.train(TRAIN_TEXTS, 400)


@pytest.mark.parametrize("text", SAMPLES)
def test_decode_inverts_encode(tok, text):
    assert tok.decode(tok.encode(text)) == text


def test_bos_is_the_last_id_and_counted_in_vocab_size(tok):
    assert tok.vocab_size == 400
    assert tok.bos_id == 399
    assert tok.decode([tok.bos_id]) == BOS


def test_bos_text_in_input_is_encoded_as_plain_bytes(tok):
    assert tok.bos_id not in tok.encode("before <|bos|> after")


def test_prepend_bos_adds_exactly_one_leading_bos(tok):
    assert tok.encode("hi", prepend_bos=True) == [tok.bos_id, *tok.encode("hi")]


def test_encode_batch_matches_encode_per_text(tok):
    assert tok.encode_batch(SAMPLES, num_threads=2) == [tok.encode(t) for t in SAMPLES]


def test_token_bytes_are_raw_byte_lengths_and_zero_for_bos(tok):
    lengths = tok.token_bytes()
    assert lengths.dtype == torch.long and lengths.shape == (tok.vocab_size,)
    assert lengths[tok.bos_id] == 0
    for token_id in range(tok.bos_id):
        assert lengths[token_id] == len(tok.id_to_bytes(token_id))


def test_token_bytes_count_raw_bytes_not_decoded_characters(tok):
    lone_continuation_byte = tok.mergeable_ranks[b"\x80"]
    assert tok.token_bytes()[lone_continuation_byte] == 1
    assert len(tok.decode([lone_continuation_byte]).encode()) == 3  # decodes to U+FFFD


@pytest.mark.parametrize("text", SAMPLES)
def test_token_bytes_sum_to_the_utf8_length_of_the_text(tok, text):
    assert int(tok.token_bytes()[tok.encode(text)].sum()) == len(text.encode("utf-8"))


def test_multibyte_merges_are_learned_from_non_ascii_text(tok):
    assert any(len(t) > 1 and max(t) >= 0x80 for t in tok.mergeable_ranks)


def test_training_is_deterministic(tok):
    assert Tokenizer.train(TRAIN_TEXTS, 400).fingerprint == tok.fingerprint


def test_save_then_load_round_trips(tok, tmp_path):
    loaded = Tokenizer.load(tok.save(tmp_path / "tok"))
    assert loaded.fingerprint == tok.fingerprint
    assert loaded.encode(SAMPLES[5]) == tok.encode(SAMPLES[5])


def test_get_tokenizer_without_prepare_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path))
    with pytest.raises(
        NanochatError, match=r"run `python -m nanochat\.data prepare --vocab-size 999`$"
    ):
        get_tokenizer(999)


def test_get_tokenizer_loads_the_prepared_tokenizer(prepared_env):
    assert get_tokenizer(prepared_env.vocab_size).fingerprint == prepared_env.tokenizer.fingerprint


def test_too_small_vocab_is_a_one_line_error():
    with pytest.raises(NanochatError, match=f"use at least {MIN_VOCAB_SIZE}"):
        Tokenizer.train(TRAIN_TEXTS, 100)


def test_corrupt_ranks_file_names_the_directory(tok, tmp_path):
    directory = tok.save(tmp_path / "tok")
    (directory / "ranks.tiktoken").write_text("not base64 at all\n")
    with pytest.raises(NanochatError, match=f"{directory}: corrupt tokenizer"):
        Tokenizer.load(directory)
