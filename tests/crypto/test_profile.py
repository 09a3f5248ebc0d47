"""Crypto profiles: SM3 / SM4-GCM / SM2 against published vectors and two independent
implementations (a plain-integer SM2 oracle and the OpenSSL command line), and both profiles'
signatures and AEAD round-trip and refuse tampering."""

import base64
import shutil
import subprocess

import gmssl_pyx
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.crypto import sm2_oracle
from yinji.crypto.aead import Aead, Sm4Gcm
from yinji.crypto.profile import (
    PROFILES,
    ProfileMismatch,
    get_profile,
    profile_of_public_key,
)
from yinji.crypto.sign import (
    KeyFormatError,
    Sm2SigningKey,
    load_signing_key,
    sm2_digest,
    verify_sm2,
)
from yinji.testing.sealed import open_outside

H = bytes.fromhex

# GM/T 0003.5-2012 (= GB/T 32918.5-2017) Annex A: signature example on the recommended curve
SM2_D = int("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8", 16)
SM2_POINT = H("04" "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
              "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
SM2_MSG = b"message digest"
SM2_E = H("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640")
SM2_R = int("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3", 16)
SM2_S = int("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA", 16)


def test_sm3_known_answers():
    """GB/T 32905-2016 Annex A examples 1 and 2."""
    sm = get_profile("sm")
    assert sm.hash_hex(b"abc") == \
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm.hash_hex(b"abcd" * 16) == \
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert get_profile("international").hash_hex(b"abc").startswith("ba7816bf8f01cfea")


def test_sm4_gcm_rfc8998_vector():
    """RFC 8998 Appendix A.1 (SM4-GCM); a flipped bit anywhere is refused."""
    key, iv = H("0123456789ABCDEFFEDCBA9876543210"), H("00001234567800000000ABCD")
    pt = H("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
           "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
    aad = H("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    ct = H("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
           "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D")
    tag = H("83DE3541E4C2B58177E065A9BF7B62EC")
    gcm = Sm4Gcm(key)
    assert gcm.encrypt(iv, pt, aad) == ct + tag
    assert gcm.decrypt(iv, ct + tag, aad) == pt
    for i in (0, len(ct) - 1, len(ct), len(ct) + 15):
        bad = bytearray(ct + tag)
        bad[i] ^= 1
        with pytest.raises(InvalidTag):
            gcm.decrypt(iv, bytes(bad), aad)
    with pytest.raises(InvalidTag):
        gcm.decrypt(iv, ct + tag, aad + b"x")


def test_sm2_published_example():
    """The GM/T 0003.5 Annex A example: Z_A / e with the default ID, the published (r, s)
    verifies, and our signatures with that key verify under GmSSL's own Z_A computation and
    under an independent plain-integer verifier."""
    assert sm2_oracle.public_of(SM2_D) == SM2_POINT          # the oracle's curve is right
    assert sm2_digest(SM2_POINT, SM2_MSG) == SM2_E
    public = base64.b64encode(SM2_POINT).decode()
    published = encode_dss_signature(SM2_R, SM2_S)
    assert verify_sm2(public, published, SM2_MSG)
    assert sm2_oracle.verify(SM2_POINT, SM2_MSG, published)
    assert not verify_sm2(public, published, b"message digesT")
    assert not verify_sm2(public, encode_dss_signature(SM2_R, SM2_S ^ 1), SM2_MSG)

    key = Sm2SigningKey(SM2_D.to_bytes(32, "big"), SM2_POINT)
    for msg in (SM2_MSG, b"", "审计记录".encode() * 50):
        sig = key.sign(msg)
        assert sm2_oracle.verify(SM2_POINT, msg, sig)
        assert gmssl_pyx.sm2_verify(SM2_POINT[1:], msg, sig)   # GmSSL computes Z_A itself
        assert not sm2_oracle.verify(SM2_POINT, msg, sig, uid=b"another id")


def _openssl_sm2() -> str | None:
    exe = shutil.which("openssl")
    if exe is None:
        return None
    probe = subprocess.run([exe, "list", "-public-key-algorithms"], capture_output=True,
                           text=True)
    return exe if "SM2" in probe.stdout else None


@pytest.mark.skipif(_openssl_sm2() is None, reason="no openssl command line with SM2")
def test_sm2_interoperates_with_openssl(tmp_path):
    """Our key file is a PKCS#8 SM2 key OpenSSL reads; OpenSSL verifies our signatures and
    we verify its signatures (default ID), and we load a key OpenSSL generated."""
    exe = _openssl_sm2()
    ours = Sm2SigningKey.generate()
    ours.save(tmp_path / "ours.pem")
    msg = tmp_path / "msg"
    msg.write_bytes(b"yinji-audit-head/1 7 " + b"ab" * 32)
    (tmp_path / "sig").write_bytes(ours.sign(msg.read_bytes()))
    run = lambda *a: subprocess.run([exe, *a], capture_output=True, text=True)  # noqa: E731
    pub = run("pkey", "-in", str(tmp_path / "ours.pem"), "-pubout", "-out",
              str(tmp_path / "ours.pub"))
    assert pub.returncode == 0, pub.stderr
    spki = run("pkey", "-pubin", "-in", str(tmp_path / "ours.pub"), "-outform", "DER",
               "-out", str(tmp_path / "ours.der"))
    assert spki.returncode == 0 and (tmp_path / "ours.der").read_bytes().endswith(ours.point)
    common = ["-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]
    ok = run("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "ours.pub"), *common,
             "-in", str(msg), "-sigfile", str(tmp_path / "sig"))
    assert "Verified Successfully" in ok.stdout, ok.stdout + ok.stderr
    signed = run("pkeyutl", "-sign", "-inkey", str(tmp_path / "ours.pem"), *common,
                 "-in", str(msg), "-out", str(tmp_path / "sig2"))
    assert signed.returncode == 0, signed.stderr
    assert verify_sm2(ours.public, (tmp_path / "sig2").read_bytes(), msg.read_bytes())
    gen = run("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "theirs.pem"))
    assert gen.returncode == 0, gen.stderr
    theirs = load_signing_key(tmp_path / "theirs.pem")
    assert theirs.profile == "sm" and verify_sm2(theirs.public, theirs.sign(b"m"), b"m")


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_signatures_round_trip_and_refuse_forgery(name, tmp_path):
    profile = get_profile(name)
    key = profile.generate_key()
    key.save(tmp_path / "signing.key")
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600
    loaded = profile.load_key(tmp_path / "signing.key")
    assert loaded.public == key.public and profile_of_public_key(key.public) is profile
    assert "_key" not in repr(loaded) and "_d=" not in repr(loaded)
    sig = loaded.sign(b"approval record")
    assert profile.verify(key.public, sig, b"approval record")
    assert not profile.verify(key.public, sig, b"approval recorD")
    assert not profile.verify(profile.generate_key().public, sig, b"approval record")
    assert not profile.verify(key.public, sig[:-1], b"approval record")
    assert not profile.verify(key.public, b"", b"approval record")
    assert not profile.verify("not base64!", sig, b"approval record")
    other = get_profile("sm" if name == "international" else "international")
    assert not other.verify(key.public, sig, b"approval record")
    with pytest.raises(ProfileMismatch, match=f"profile {name!r}.*fixed at `yinji node init`"):
        other.load_key(tmp_path / "signing.key")
    with pytest.raises(KeyFormatError):
        other.check_public(key.public)


def test_broken_sm2_key_files_are_refused(tmp_path):
    key = Sm2SigningKey.generate()
    der = bytearray(key.pkcs8())
    der[40] ^= 1                                   # d no longer matches the stored point
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(der).decode()
                   + "\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFormatError, match="do not match"):
        load_signing_key(bad)
    bad.write_text("garbage")
    with pytest.raises(KeyFormatError, match="not a PKCS#8 PEM"):
        load_signing_key(bad)
    with pytest.raises(KeyFormatError, match="not a point on the SM2 curve"):
        Sm2SigningKey(bytes(32), b"\x04" + bytes(64))


def test_unknown_profile_named_plainly():
    with pytest.raises(ValueError, match="unknown crypto profile 'gm'.*'international', 'sm'"):
        get_profile("gm")
    with pytest.raises(ValueError, match="unknown crypto profile"):
        Aead(bytes(32), "gm")


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_aead_is_the_profiles_cipher_and_refuses_tampering(name):
    key = bytes(range(32))
    aead = get_profile(name).aead(key)
    sealed = aead.seal("张三 110101199003077777".encode(), b"[PERSON_1]")
    assert aead.open(sealed, b"[PERSON_1]") == "张三 110101199003077777".encode()
    assert open_outside(name, key, sealed, b"[PERSON_1]") == aead.open(sealed,
                                                                             b"[PERSON_1]")
    other = "sm" if name == "international" else "international"
    with pytest.raises(InvalidTag):
        open_outside(other, key, sealed, b"[PERSON_1]")
    with pytest.raises(InvalidTag):
        Aead(key, other).open(sealed, b"[PERSON_1]")
    for i in (0, 11, 12, len(sealed) - 17, len(sealed) - 1):     # nonce, body, tag
        bad = bytearray(sealed)
        bad[i] ^= 0x80
        with pytest.raises(InvalidTag):
            aead.open(bytes(bad), b"[PERSON_1]")
    with pytest.raises(InvalidTag):
        aead.open(sealed, b"[PERSON_2]")                   # moved to another placeholder
    with pytest.raises(InvalidTag):
        aead.open(sealed[:27])
    assert aead.tag(b"x") == get_profile(name).aead(key).tag(b"x") != Aead(key, other).tag(b"x")


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_stored_key_sealed_at_rest(name, tmp_path):
    """A key a node keeps at rest (e.g. an OPRF key) sealed with the profile's AEAD under a
    key-encryption key, bound to its file name: round-trips; a flipped byte or the blob
    under another name is refused, and the failed open leaves the file as it was."""
    from yinji.crypto.aead import fresh_key
    from yinji.crypto.certs import write_private

    kek, secret = fresh_key(), fresh_key()
    aead = get_profile(name).aead(kek)
    path = tmp_path / "oprf.key.sealed"
    write_private(path, aead.seal(secret, b"oprf.key"))
    assert secret not in path.read_bytes()
    assert aead.open(path.read_bytes(), b"oprf.key") == secret
    with pytest.raises(InvalidTag):
        aead.open(path.read_bytes(), b"linkage.key")
    raw = bytearray(path.read_bytes())
    raw[20] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(InvalidTag):
        aead.open(path.read_bytes(), b"oprf.key")
    assert path.read_bytes() == bytes(raw)
