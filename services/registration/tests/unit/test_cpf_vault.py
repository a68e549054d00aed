"""CPF at rest: encrypted with a named key, fingerprinted for uniqueness, masked when shown."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from registration.config import RegistrationSettings
from registration.cpf_vault import CpfVault, Sealed, VaultConfigError, mask_cpf, parse_key_ring


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_seal_and_open_round_trip_with_a_fresh_nonce_each_time():
    vault = CpfVault(parse_key_ring(f"k1:{key()}"), "k1", os.urandom(32))
    a, b = vault.seal("12345678909"), vault.seal("12345678909")
    assert a.ciphertext != b.ciphertext and b"12345678909" not in a.ciphertext
    assert vault.open(a) == vault.open(b) == "12345678909"


def test_rotation_old_rows_still_open_new_rows_use_the_new_key():
    old, new = key(), key()
    hmac_key = os.urandom(32)
    before = CpfVault(parse_key_ring(f"k1:{old}"), "k1", hmac_key).seal("12345678909")
    rotated = CpfVault(parse_key_ring(f"k2:{new},k1:{old}"), "k2", hmac_key)
    assert rotated.open(before) == "12345678909"
    assert rotated.seal("12345678909").key_id == "k2"


def test_the_key_id_is_authenticated():
    ring = parse_key_ring(f"k1:{key()},k2:{key()}")
    vault = CpfVault(ring, "k1", os.urandom(32))
    sealed = vault.seal("12345678909")
    with pytest.raises(InvalidTag):
        vault.open(Sealed("k2", sealed.ciphertext))


def test_fingerprint_is_deterministic_and_keyed():
    ring = parse_key_ring(f"k1:{key()}")
    a, b = CpfVault(ring, "k1", os.urandom(32)), CpfVault(ring, "k1", os.urandom(32))
    assert a.fingerprint("12345678909") == a.fingerprint("12345678909")
    assert a.fingerprint("12345678909") != b.fingerprint("12345678909")


@pytest.mark.parametrize("spec", ["k1", f"k1:{base64.b64encode(b'short').decode()}", "k1:not base64!"])
def test_malformed_keys_are_refused(spec):
    with pytest.raises((VaultConfigError, ValueError)):
        parse_key_ring(spec)


def test_mask():
    assert mask_cpf("12345678909") == "***.456.789-**"


def test_production_refuses_the_development_keys():
    with pytest.raises(ValueError, match="CPF_ENCRYPTION_KEYS"):
        RegistrationSettings(environment="production")
