from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from service.crypto import MasterKey, load_master_key, open_sealed, seal
from service.crypto.master_key import generate_key_file
from service.errors import ConfigurationError
from service.settings import Settings


def _master() -> MasterKey:
    return MasterKey(os.urandom(32))


def test_seal_and_open_round_trip_with_a_fresh_data_key_each_time() -> None:
    master = _master()
    one = seal(master, b"DE1A", b"payload")
    two = seal(master, b"DE1A", b"payload")
    assert one.wrapped_key != two.wrapped_key and one.ciphertext != two.ciphertext
    assert b"payload" not in one.ciphertext
    assert open_sealed(master, b"DE1A", one) == b"payload"


def test_moved_ciphertext_or_another_master_key_fails() -> None:
    master = _master()
    sealed = seal(master, b"DE1A", b"payload")
    with pytest.raises(InvalidTag):
        open_sealed(master, b"DE1B", sealed)
    with pytest.raises(Exception):  # noqa: B017 - unwrap fails with InvalidUnwrap
        open_sealed(_master(), b"DE1A", sealed)


def test_no_key_outside_dev_mode_refuses(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no master key"):
        load_master_key(Settings(data_dir=tmp_path))


def test_dev_mode_generates_a_private_dev_key_once(tmp_path: Path) -> None:
    first = load_master_key(Settings(data_dir=tmp_path, dev=True))
    assert first.is_dev
    key_file = tmp_path / "dev-master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_master_key(Settings(data_dir=tmp_path, dev=True)).key == first.key


@pytest.mark.parametrize(
    "value",
    ["changeme", base64.b64encode(bytes(32)).decode(), base64.b64encode(b"x" * 16).decode(),
     "not base64 at all!"],
)
def test_placeholder_and_malformed_keys_refuse(value: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_master_key(Settings(data_dir=tmp_path, master_key=value))


def test_key_file_readable_by_others_refuses(tmp_path: Path) -> None:
    path = tmp_path / "k"
    generate_key_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_master_key(Settings(data_dir=tmp_path, master_key_file=path))


def test_the_audit_key_fails_closed_like_the_master_key(tmp_path: Path) -> None:
    from service.audit.keys import load_audit_keys

    with pytest.raises(ConfigurationError, match="no audit signing key"):
        load_audit_keys(Settings(data_dir=tmp_path))
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_audit_keys(Settings(data_dir=tmp_path, audit_key_file=tmp_path / "missing"))
    dev = load_audit_keys(Settings(data_dir=tmp_path, dev=True))
    again = load_audit_keys(Settings(data_dir=tmp_path, dev=True))
    assert dev.public_key_hex == again.public_key_hex
    (tmp_path / "dev-audit.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_audit_keys(Settings(data_dir=tmp_path, dev=True))
