"""Test oracle only: SM2 signature verification (GB/T 32918.2 §7) in plain Python integers,
independent of GmSSL, to cross-check what the library signs. Never used by Yinji itself
(slow, not constant-time)."""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

# GB/T 32918.5-2017 recommended curve
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
G = (0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
     0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0)


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % P == 0:
        return None
    if p == q:
        lam = (3 * p[0] * p[0] + A) * pow(2 * p[1], -1, P)
    else:
        lam = (q[1] - p[1]) * pow(q[0] - p[0], -1, P)
    x = (lam * lam - p[0] - q[0]) % P
    return x, (lam * (p[0] - x) - p[1]) % P


def _mul(k, p):
    r = None
    while k:
        if k & 1:
            r = _add(r, p)
        p = _add(p, p)
        k >>= 1
    return r


def public_of(d: int) -> bytes:
    x, y = _mul(d, G)
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def z_value(point: bytes, uid: bytes = b"1234567812345678") -> bytes:
    curve = b"".join(v.to_bytes(32, "big") for v in (A, B, *G))
    return sm3((8 * len(uid)).to_bytes(2, "big") + uid + curve + point[1:])


def verify(point: bytes, message: bytes, der: bytes, uid: bytes = b"1234567812345678") -> bool:
    r, s = decode_dss_signature(der)
    if not (1 <= r < N and 1 <= s < N):
        return False
    q = (int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big"))
    assert (q[1] ** 2 - q[0] ** 3 - A * q[0] - B) % P == 0, "not on the curve"
    e = int.from_bytes(sm3(z_value(point, uid) + message), "big")
    t = (r + s) % N
    if t == 0:
        return False
    x1 = _add(_mul(s, G), _mul(t, q))[0]
    return (e + x1) % N == r
