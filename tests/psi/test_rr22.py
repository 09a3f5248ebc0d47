import os
from pathlib import Path

import pytest

from yinji.psi.ecdh import ecdh_psi
from yinji.psi.rr22 import SpuUnavailable, find_spu_python
from yinji.testing.parties import run_parties

SIDE = Path(__file__).resolve().parents[2] / "benchmarks" / ".peers" / "spu" / "bin" / "python"


def spu_python():
    try:
        return find_spu_python(str(SIDE) if SIDE.exists() else None)
    except SpuUnavailable:
        return None


def test_missing_spu_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("YINJI_SPU_PYTHON", raising=False)
    with pytest.raises(SpuUnavailable):
        find_spu_python("/nonexistent/python")


@pytest.mark.tls
@pytest.mark.skipif(spu_python() is None, reason="no spu interpreter (benchmarks/peers/setup.sh spu)")
def test_rr22_matches_sets():
    a = [f"k{i}".encode() for i in range(0, 3000)]
    b = [f"k{i}".encode() for i in range(2000, 4000)]
    py = spu_python()

    def body(party, keys):
        return ecdh_psi(party, "B" if party.name == "A" else "A", keys, receiver="A",
                        protocol="rr22", spu_python=py)
    ra, rb = run_parties(body, names=["A", "B"], args=[(a,), (b,)], timeout=300)
    assert ra.tolist() == list(range(2000, 3000)) and rb is None
    assert os.path.exists(py)
