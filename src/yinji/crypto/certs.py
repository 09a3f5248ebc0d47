"""Per-party X.509 identities for mutual TLS: a small group CA, party certificates, pins.

Why: every channel between nodes is mutually authenticated TLS (DESIGN.md, Security model).
Keys are ECDSA P-256 (what every OpenSSL build negotiates in TLS 1.3), generated and signed by
`cryptography`. A party's certificate names the party in its subject CN and, for ASCII names,
in a DNS subjectAltName; peers check that name against the party they expected. Private keys
only ever go to files created with mode 0600 and never appear in reprs or logs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_CA_DAYS = 5 * 365
DEFAULT_CERT_DAYS = 365


@dataclass(frozen=True)
class CertKey:
    """A PEM certificate and its PEM private key (PKCS#8, unencrypted; hidden from repr)."""

    cert_pem: bytes
    key_pem: bytes = field(repr=False)

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    def _key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key


def _new_key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return key, pem


def _validity(days: int, not_before: dt.datetime | None,
              not_after: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # clock skew
    return start, not_after or start + dt.timedelta(days=days)


def _key_usage(signs_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=signs_certs,
        crl_sign=signs_certs, encipher_only=False, decipher_only=False)


def make_ca(name: str, *, days: int = DEFAULT_CA_DAYS) -> CertKey:
    """A self-signed CA that may sign party certificates (and nothing below them)."""
    key, key_pem = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start, end = _validity(days, None, None)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certs=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def issue_cert(ca: CertKey, party_name: str, *, days: int = DEFAULT_CERT_DAYS,
               not_before: dt.datetime | None = None,
               not_after: dt.datetime | None = None, hosts: Iterable[str] = ()) -> CertKey:
    """A fresh key and a certificate for `party_name`, signed by `ca`, usable as TLS client
    and server. `not_before`/`not_after` override the validity window (tests use them to make
    expired certificates). `hosts`: further subjectAltNames (IP addresses or DNS names) so
    HTTPS clients can check the host they dialled (a node's REST API)."""
    return _party_cert(party_name, ca, days, not_before, not_after, hosts)


def self_signed_cert(party_name: str, *, days: int = DEFAULT_CERT_DAYS,
                     hosts: Iterable[str] = ()) -> CertKey:
    """A party certificate signed by its own key, for groups without a CA: peers put it in
    their trust file and pin its fingerprint. It cannot sign other certificates."""
    return _party_cert(party_name, None, days, None, None, hosts)


def _host_names(party_name: str, hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(party_name)] if party_name.isascii() else []
    for host in dict.fromkeys(h for h in hosts if h and h != party_name):
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            names.append(x509.DNSName(host))
        else:
            if not ip.is_unspecified:      # 0.0.0.0 / :: name no host a client dials
                names.append(x509.IPAddress(ip))
    return names


def _party_cert(party_name: str, ca: CertKey | None, days: int,
                not_before: dt.datetime | None, not_after: dt.datetime | None,
                hosts: Iterable[str] = ()) -> CertKey:
    if not party_name:
        raise ValueError("party name must not be empty")
    key, key_pem = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, party_name)])
    issuer, signer = (ca.cert.subject, ca._key()) if ca is not None else (subject, key)
    start, end = _validity(days, not_before, not_after)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certs=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                       critical=False)
    )
    san = _host_names(party_name, hosts)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    cert = builder.sign(signer, hashes.SHA256())
    return CertKey(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def not_after(cert: bytes) -> dt.datetime:
    """When a certificate (PEM or DER) expires (UTC)."""
    return x509.load_der_x509_certificate(_der(cert)).not_valid_after_utc


def _der(cert: bytes) -> bytes:
    if cert.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(cert).public_bytes(serialization.Encoding.DER)
    return cert


def fingerprint(cert: bytes) -> str:
    """SHA-256 of the certificate's DER encoding, lowercase hex (PEM or DER input)."""
    return hashlib.sha256(_der(cert)).hexdigest()


def normalize_fingerprint(text: str) -> str:
    """Accept `AB:CD:...` or `abcd...` spellings of a SHA-256 fingerprint."""
    hexed = text.replace(":", "").strip().lower()
    if len(hexed) != 64 or any(c not in "0123456789abcdef" for c in hexed):
        raise ValueError(f"not a SHA-256 fingerprint: {text!r}")
    return hexed


def cert_names(cert: bytes) -> list[str]:
    """The party names a certificate is for: its DNS subjectAltNames, else its subject CN."""
    parsed = x509.load_der_x509_certificate(_der(cert))
    try:
        san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    cns = [str(a.value) for a in parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return names or cns


def write_cert_key(cert_key: CertKey, directory: str | os.PathLike[str],
                   stem: str) -> tuple[Path, Path]:
    """Write `<stem>.crt` (0644) and `<stem>.key` (0600) into `directory`; return both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    write_private(key_path, cert_key.key_pem)
    cert_path.write_bytes(cert_key.cert_pem)
    return cert_path, key_path


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Write secret bytes to a file only its owner can read, even if it already existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


__all__ = [
    "CertKey",
    "cert_names",
    "fingerprint",
    "issue_cert",
    "make_ca",
    "normalize_fingerprint",
    "not_after",
    "self_signed_cert",
    "write_cert_key",
    "write_private",
]
