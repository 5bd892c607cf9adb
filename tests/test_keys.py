"""The node's key files: created once, private, and the sealing of stored secrets."""

from __future__ import annotations

import os
from pathlib import Path

import nacl.exceptions
import pytest

from node.keys import KeyFileError, ensure_keys, load_keys


def test_keys_are_created_once_and_loaded(tmp_path: Path) -> None:
    created = ensure_keys(tmp_path / "keys")
    assert sorted(created) == ["box.key", "oprf-1.key", "signing.key", "web.key"]
    assert ensure_keys(tmp_path / "keys") == []
    keys = load_keys(tmp_path / "keys")
    assert keys.oprf_epoch == 1 and len(keys.oprf) == 32
    assert keys.cookie_secret() != keys.web and len(keys.cookie_secret()) == 32


def test_sealed_secrets_open_and_detect_alteration(tmp_path: Path) -> None:
    ensure_keys(tmp_path / "keys")
    keys = load_keys(tmp_path / "keys")
    sealed = keys.seal(b"JBSWY3DPEHPK3PXP")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert keys.unseal(sealed) == b"JBSWY3DPEHPK3PXP"
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(nacl.exceptions.CryptoError):
        keys.unseal(altered)


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    ensure_keys(tmp_path / "keys")
    os.chmod(tmp_path / "keys" / "signing.key", 0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_keys(tmp_path / "keys")


def test_truncated_key_is_refused(tmp_path: Path) -> None:
    ensure_keys(tmp_path / "keys")
    (tmp_path / "keys" / "box.key").write_bytes(b"short")
    with pytest.raises(KeyFileError, match="expected 32 bytes"):
        load_keys(tmp_path / "keys")
