"""Workers.map: stateless pieces of work on threads and as Ray tasks, results in order."""

import pytest

from yinji.net.workers import LocalWorkers


def _square_plus(x: int, y: int) -> int:
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x * x + y


def test_local_map_keeps_order_and_raises_the_workers_error():
    w = LocalWorkers(2)
    assert w.map(_square_plus, [(i, 1) for i in range(20)]) == [i * i + 1 for i in range(20)]
    assert w.map(_square_plus, []) == []
    with pytest.raises(ValueError, match="negative input -3"):
        w.map(_square_plus, [(1, 0), (-3, 0)])


def test_ray_map_keeps_order_and_raises_the_workers_error():
    pytest.importorskip("ray")
    from yinji.net.workers import RayWorkers
    w = RayWorkers(None, cpus=1, local_cpus=2)
    try:
        assert w.map(_square_plus, [(i, 2) for i in range(7)]) == [i * i + 2 for i in range(7)]
        with pytest.raises(ValueError, match="negative input -1"):
            w.map(_square_plus, [(-1, 0)])
    finally:
        w.close()
