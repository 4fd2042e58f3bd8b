"""Secrets at rest: sealed values open only with the key; keys rotate without a flag day."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from stripemeter_server.storage.secret_box import (
    SecretBox,
    SecretKeyError,
    embedded_key_file,
)

KEY_A = "a" * 32
KEY_B = "b" * 40


def test_a_sealed_secret_opens_with_the_same_key() -> None:
    box = SecretBox(KEY_A)
    assert box.open(box.seal("sk_test_123")) == "sk_test_123"


def test_the_ciphertext_does_not_contain_the_secret() -> None:
    assert "sk_test_123" not in SecretBox(KEY_A).seal("sk_test_123")


def test_another_key_cannot_open_it() -> None:
    sealed = SecretBox(KEY_A).seal("sk_test_123")
    with pytest.raises(SecretKeyError):
        SecretBox(KEY_B).open(sealed)


def test_rotation_new_key_first_still_opens_old_secrets_and_seals_with_the_new() -> None:
    old = SecretBox(KEY_A).seal("sk_test_old")
    rotated = SecretBox(f"{KEY_B},{KEY_A}")
    assert rotated.open(old) == "sk_test_old"
    assert SecretBox(KEY_B).open(rotated.seal("sk_test_new")) == "sk_test_new"


def test_short_keys_are_refused() -> None:
    with pytest.raises(SecretKeyError):
        SecretBox("short")


def test_repr_hides_the_keys() -> None:
    assert KEY_A not in repr(SecretBox(KEY_A))


def test_embedded_key_is_made_once_private_and_reused(tmp_path: Path) -> None:
    first = embedded_key_file(tmp_path / "data" / "stripemeter.db")
    again = embedded_key_file(tmp_path / "data" / "stripemeter.db")
    assert first == again and len(first) >= 32
    mode = (tmp_path / "data" / ".secret-key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_an_in_memory_store_gets_a_key_without_writing_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert len(embedded_key_file(Path(":memory:"))) >= 32
    assert not (tmp_path / ".secret-key").exists()
