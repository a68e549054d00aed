"""CPF at rest: AES-GCM ciphertext (with the id of the key that made it) and a keyed HMAC for
uniqueness. Keys come from the environment; old keys stay in the ring so rotation needs no
downtime (new rows use the active key; a re-encryption job can move old rows at leisure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class VaultConfigError(ValueError):
    """A key is missing or malformed in the configuration."""


def parse_key_ring(spec: str) -> dict[str, bytes]:
    """'k2:<base64 32 bytes>,k1:<base64 32 bytes>' → {'k2': b'...', 'k1': b'...'}."""
    ring: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, sep, encoded = item.partition(":")
        if not sep:
            raise VaultConfigError(f"key entry without an id: {item[:4]}…")
        key = base64.b64decode(encoded, validate=True)
        if len(key) != 32:
            raise VaultConfigError(f"key {key_id} must be 32 bytes (AES-256), got {len(key)}")
        ring[key_id] = key
    return ring


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: bytes  # nonce || AES-GCM(ciphertext + tag)


class CpfVault:
    def __init__(self, ring: dict[str, bytes], active_key_id: str, hmac_key: bytes) -> None:
        if active_key_id not in ring:
            raise VaultConfigError(f"active key {active_key_id} is not in the key ring")
        if len(hmac_key) < 32:
            raise VaultConfigError("the CPF HMAC key must have at least 32 bytes")
        self._ring = ring
        self._active = active_key_id
        self._hmac_key = hmac_key

    @property
    def active_key_id(self) -> str:
        return self._active

    def fingerprint(self, cpf: str) -> bytes:
        """Deterministic keyed hash: equal CPFs collide in the unique index, nothing else leaks."""
        return hmac.new(self._hmac_key, cpf.encode(), hashlib.sha256).digest()

    def seal(self, cpf: str) -> Sealed:
        nonce = os.urandom(_NONCE_BYTES)
        # The key id is authenticated data: a row cannot be re-labelled to another key.
        box = AESGCM(self._ring[self._active]).encrypt(nonce, cpf.encode(), self._active.encode())
        return Sealed(self._active, nonce + box)

    def open(self, sealed: Sealed) -> str:
        key = self._ring.get(sealed.key_id)
        if key is None:
            raise VaultConfigError(f"no key {sealed.key_id} in the ring: cannot decrypt")
        nonce, box = sealed.ciphertext[:_NONCE_BYTES], sealed.ciphertext[_NONCE_BYTES:]
        return AESGCM(key).decrypt(nonce, box, sealed.key_id.encode()).decode()

    def open_row(self, key_id: str, ciphertext: bytes) -> str:
        return self.open(Sealed(key_id, ciphertext))


def mask_cpf(cpf: str) -> str:
    """'12345678909' → '***.456.789-**' (the middle digits only, as Brazilian services show it)."""
    return f"***.{cpf[3:6]}.{cpf[6:9]}-**"
