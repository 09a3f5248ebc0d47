"""The array API of yinji.crypto.group (ctypes into libsodium) against rbcl's list API."""

import numpy as np
import pytest

from yinji.crypto import group


def rows(arr):
    return [bytes(r) for r in arr]


def test_array_api_matches_list_api():
    items = [b"%d" % i for i in range(50)]
    k = group.random_scalar()
    assert rows(group.hash_points(items, b"t")) == group.hash_to_group(items, b"t")
    assert rows(group.hash_and_mult_points(k, items, b"t")) == group.hash_and_mult(k, items, b"t")
    pts = group.hash_points(items, b"t")
    assert rows(group.mult_points(k, pts)) == group.scalar_mult(k, rows(pts))
    assert group.valid_points(group.mult_points(k, pts)).all()


def test_parallel_split_matches_serial(monkeypatch):
    items = [b"%d" % i for i in range(301)]
    k = group.random_scalar()
    serial = group.hash_and_mult_points(k, items, b"t", workers=1)
    monkeypatch.setattr(group, "ARRAY_PARALLEL_THRESHOLD", 10)
    assert (group.hash_and_mult_points(k, items, b"t", workers=3) == serial).all()
    assert (group.mult_points(k, group.hash_points(items, b"t", workers=2), workers=2)
            == serial).all()


def test_blinding_commutes_and_inverts():
    pts = group.hash_points([b"a", b"b"], b"t")
    a, b = group.random_scalar(), group.random_scalar()
    ab = group.mult_points(b, group.mult_points(a, pts))
    assert (ab == group.mult_points(a, group.mult_points(b, pts))).all()
    assert (group.mult_points(group.scalar_inverse(a), group.mult_points(a, pts)) == pts).all()


def test_invalid_input_refused_and_named():
    k = group.random_scalar()
    good = group.hash_points([b"a"], b"t")
    bad = np.vstack([good, np.full((1, 32), 0xFF, np.uint8)])
    assert group.valid_points(bad).tolist() == [True, False]
    with pytest.raises(group.InvalidPoint, match="1 of 2 rows"):
        group.mult_points(k, bad)
    with pytest.raises(group.InvalidPoint, match="uint8"):
        group.mult_points(k, np.zeros((2, 16), np.uint8))
    with pytest.raises(ValueError, match="32 bytes"):
        group.mult_points(b"short", good)
    assert group.hash_points([], b"t").shape == (0, 32)
    assert group.mult_points(k, np.zeros((0, 32), np.uint8)).shape == (0, 32)


def test_hash_never_lands_outside_the_group():
    """Every hash is a canonical prime-order element (the X25519 u-coordinate hash put about
    half of all keys on the twist)."""
    pts = group.hash_points([b"%d" % i for i in range(200)], b"t")
    assert group.valid_points(pts).all()
    assert len(set(rows(pts))) == 200


def test_importing_leaves_no_copy_of_libsodium_in_the_temp_folder():
    """rbcl writes its bundled libsodium to a new temporary file on every import; the group
    module removes it once loaded (thousands of 2.7 MB files had filled a disk)."""
    import os
    import subprocess
    import sys

    code = ("import sys, yinji.crypto.group as g; "
            "assert g.hash_to_group([b'x'], b'd'); print(sys.modules['rbcl._sodium'].lib_path)")
    path = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
                          ).stdout.strip()
    assert path.endswith(".so") or path.endswith(".pyd")
    assert not os.path.exists(path)
