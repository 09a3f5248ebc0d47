import numpy as np
import pytest

from yinji.crypto.prg import Prg, fresh_seed
from yinji.pir.lwe import SIGMA, LweParams, SimplePirClient, SimplePirServer, sample_error


@pytest.mark.parametrize("rows,cols", [(1, 1), (7, 5), (300, 257), (3, 40_000)])
def test_recovers_requested_columns(rows, cols):
    rng = np.random.default_rng(rows * cols)
    db = rng.integers(0, 256, (rows, cols), dtype=np.uint8)
    params = LweParams(rows, cols, fresh_seed())
    server = SimplePirServer(db, params)
    client = SimplePirClient(params, server.hint)
    want = sorted({0, cols - 1, cols // 2})
    state, q = client.query(want)
    assert q.dtype == np.uint32 and q.shape == (cols, len(want))
    assert (client.recover(state, server.answer(q)) == db[:, want]).all()


def test_batched_answer_equals_single_answers():
    rng = np.random.default_rng(1)
    db = rng.integers(0, 256, (50, 64), dtype=np.uint8)
    params = LweParams(50, 64, fresh_seed())
    server = SimplePirServer(db, params)
    client = SimplePirClient(params, server.hint)
    qs = [client.query([j])[1] for j in (3, 9, 63)]
    batch = server.answer(np.concatenate(qs, axis=1))
    for i, q in enumerate(qs):
        assert (batch[:, i:i + 1] == server.answer(q)).all()


def test_error_distribution():
    e = sample_error((200_000,), Prg(fresh_seed()))
    # sd of the mean 6.4/sqrt(2e5) = 0.0143 (0.1 is 7 sd, 3e-12); sd of the sample sd
    # 6.4/sqrt(4e5) = 0.0101 (0.1 is 9.9 sd)
    assert abs(e.mean()) < 0.1 and abs(e.std() - SIGMA) < 0.1


def test_params_validated():
    with pytest.raises(ValueError):
        LweParams(10, 0, fresh_seed())
    with pytest.raises(ValueError):
        LweParams(10, (1 << 20) + 1, fresh_seed())


def test_precomputed_queries_decode():
    rng = np.random.default_rng(2)
    db = rng.integers(0, 256, (40, 33), dtype=np.uint8)
    params = LweParams(40, 33, fresh_seed())
    server = SimplePirServer(db, params)
    client = SimplePirClient(params, server.hint)
    client.precompute(5)
    state, q = client.query([1, 32, 7])
    assert client.prepared == 2 and state.hint_s is not None
    assert (client.recover(state, server.answer(q)) == db[:, [1, 32, 7]]).all()
    state, q = client.query([0, 1, 2])  # more than prepared: computed online
    assert state.hint_s is None and client.prepared == 2
    assert (client.recover(state, server.answer(q)) == db[:, [0, 1, 2]]).all()
