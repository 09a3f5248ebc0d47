"""Oblivious scans (AND of vectors, prefix AND, first set position) against NumPy, with the
round count pinned (it depends only on the lengths)."""

import math

import numpy as np
import pytest

from yinji.mpc import replicated as rep
from yinji.mpc import scan
from yinji.testing.mpc import run_mpc


def _first(bits):
    hits = np.flatnonzero(bits)
    return int(hits[0]) if hits.size else len(bits)


@pytest.mark.parametrize("n", [1, 2, 3, 64, 1000, 2976])
def test_and_all_and_first_one_match_numpy(rng, n):
    vecs = [(rng.random(n) < 0.8).astype(np.uint64) for _ in range(4)]
    if n == 64:
        vecs[0][:] = 0                                # no common 1
    both = np.logical_and.reduce(vecs)

    def prog(s):
        shared = [rep.share(s, v if s.rank == i % 3 else None, i % 3) for i, v in
                  enumerate(vecs)]
        r0 = s.rounds
        anded = scan.and_all(s, shared)
        first = scan.first_one(s, anded)
        rounds = s.rounds - r0
        return rep.reveal(s, anded), rep.reveal(s, first), rounds

    for anded, first, rounds in run_mpc(prog):
        np.testing.assert_array_equal(anded, both)
        assert first.shape == (1,) and int(first[0]) == _first(both)
        assert rounds == 2 + math.ceil(math.log2(n))


def test_first_one_edges(rng):
    cases = [np.zeros(7), np.ones(7), np.eye(1, 7, 6)[0], np.eye(1, 7, 0)[0], np.ones(1),
             np.zeros(1)]

    def prog(s):
        out = []
        for v in cases:
            x = rep.share(s, v.astype(np.uint64) if s.rank == 0 else None, 0)
            out.append(int(rep.reveal(s, scan.first_one(s, x))[0]))
        return out

    for got in run_mpc(prog):
        assert got == [7, 0, 6, 0, 0, 1]
