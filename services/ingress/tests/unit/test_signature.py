import pytest

from devkit import samples
from ingress.errors import AuthenticationError, ForbiddenError
from ingress.gateways.meta import signature

SECRET = "s3cret"


def test_signature_of_raw_bytes_verifies():
    body = samples.load("meta_text.json")
    signature.verify(SECRET, body, signature.sign(SECRET, body))


def test_signature_matches_metas_reference_algorithm():
    # pywa's validator: hmac_sha256(app_secret, raw body).hexdigest() after "sha256="
    body = '{"text": "ação 🌱"}'.encode()
    assert signature.sign(SECRET, body) == samples.meta_signature(SECRET, body)


def test_missing_header_is_401():
    with pytest.raises(AuthenticationError):
        signature.verify(SECRET, b"{}", None)


@pytest.mark.parametrize("header", ["sha256=deadbeef", "deadbeef", "sha256=", "sha256=ção"])
def test_wrong_signature_is_403(header):
    with pytest.raises(ForbiddenError):
        signature.verify(SECRET, b"{}", header)


def test_one_changed_byte_is_rejected():
    body = samples.load("meta_text.json")
    good = signature.sign(SECRET, body)
    tampered = body.replace(b"Body Text", b"Body Texu")
    assert len(tampered) == len(body)
    with pytest.raises(ForbiddenError):
        signature.verify(SECRET, tampered, good)


def test_reserialised_json_would_not_verify():
    """Why we sign the raw bytes: re-encoding changes them (here, escaping non-ASCII)."""
    import json

    body = samples.meta_text("inscrição ✅", wamid="wamid.1")
    reserialised = json.dumps(json.loads(body)).encode()
    with pytest.raises(ForbiddenError):
        signature.verify(SECRET, reserialised, signature.sign(SECRET, body))
