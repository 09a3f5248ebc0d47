"""Certificates: names, fingerprints, validity windows, private key files."""

import datetime as dt
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from yinji.crypto.certs import (
    cert_names,
    fingerprint,
    issue_cert,
    make_ca,
    normalize_fingerprint,
    write_cert_key,
)


@pytest.fixture(scope="module")
def ca():
    return make_ca("test-ca")


def test_issued_cert_names_party_and_chains_to_ca(ca):
    party = issue_cert(ca, "broker")
    cert = party.cert
    assert cert_names(party.cert_pem) == ["broker"]
    assert cert.issuer == ca.cert.subject
    cert.verify_directly_issued_by(ca.cert)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_non_ascii_name_goes_in_common_name(ca):
    assert cert_names(issue_cert(ca, "证券").cert_pem) == ["证券"]


def test_fingerprint_pem_der_and_spellings(ca):
    party = issue_cert(ca, "P0")
    fp = fingerprint(party.cert_pem)
    der = party.cert.public_bytes(Encoding.DER)
    assert fp == fingerprint(der) and len(fp) == 64
    assert normalize_fingerprint(":".join(fp[i:i + 2].upper() for i in range(0, 64, 2))) == fp
    assert fingerprint(issue_cert(ca, "P0").cert_pem) != fp  # a fresh key, a fresh pin
    with pytest.raises(ValueError):
        normalize_fingerprint("abc")


def test_validity_window(ca):
    now = dt.datetime.now(dt.UTC)
    old = issue_cert(ca, "P1", not_before=now - dt.timedelta(days=10),
                     not_after=now - dt.timedelta(days=1))
    assert old.cert.not_valid_after_utc < now
    assert issue_cert(ca, "P1", days=30).cert.not_valid_after_utc > now + dt.timedelta(days=29)


def test_key_file_is_private_and_never_in_repr(ca, tmp_path):
    party = issue_cert(ca, "P2")
    (tmp_path / "P2.key").write_bytes(b"old")
    (tmp_path / "P2.key").chmod(0o644)
    cert_path, key_path = write_cert_key(party, tmp_path, "P2")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes() == party.key_pem and cert_path.read_bytes() == party.cert_pem
    assert b"PRIVATE" in party.key_pem and "PRIVATE" not in repr(party)
