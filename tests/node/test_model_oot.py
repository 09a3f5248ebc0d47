"""Out-of-time validation in `model.secureboost` (in-process): the spec's checks, and the
alignment step's validation mask is exactly the shared customers the label holder dates on or
after the cutoff (the same mask at every party)."""

import numpy as np
import pytest

from yinji.node.model_runners import SecureBoostTrainRunner, SSLRTrainRunner, features_of
from yinji.node.runners import RunContext
from yinji.testing.parties import run_parties


def spec(**params):
    return {"id": "j1", "protocol": "model.secureboost",
            "inputs": {"fund": {"dataset": "d", "columns": ["cid", "income", "opened", "y"]},
                       "broker": {"dataset": "d", "columns": ["cid", "assets"]}},
            "params": {"model": "m", "label_holder": "fund", "label": "y", **params},
            "recipients": ["fund"]}


def test_spec_checks():
    r = SecureBoostTrainRunner()
    ok = spec(oot_column="opened", oot_cutoff="2024-07-01")
    assert r.validate(ok) == []
    assert features_of(ok)["fund"] == ["income"]
    assert any("both" in p for p in r.validate(spec(oot_column="opened")))
    assert any("oot_column must be" in p for p in r.validate(spec(oot_column="y",
                                                                  oot_cutoff="2024-07-01")))
    assert any("oot_cutoff" in p for p in r.validate(spec(oot_column="opened",
                                                          oot_cutoff="July")))
    s = {**ok, "protocol": "model.sslr", "helpers": ["h"]}
    assert any("unknown params: oot_column, oot_cutoff" in p
               for p in SSLRTrainRunner().validate(s))


def test_alignment_mask_is_the_out_of_time_rows():
    rng = np.random.default_rng(3)
    ids = np.array([f"C{i:03d}" for i in range(60)])
    dates = np.array([f"2024-{m:02d}-15" for m in rng.integers(1, 13, 60)])
    fund_rows, broker_rows = rng.permutation(60)[:50], rng.permutation(60)[:55]
    s = spec(oot_column="opened", oot_cutoff="2024-07-01")

    def body(party):
        if party.name == "fund":
            inputs = {"cid": ids[fund_rows], "opened": dates[fund_rows]}
        else:
            inputs = {"cid": ids[broker_rows]}
        ctx = RunContext(s, party.name, party, inputs, lambda f, m: None)
        rows, val = SecureBoostTrainRunner()._align(ctx, "fund", ["broker"], inputs["cid"])
        return inputs["cid"][rows], val

    (f_ids, f_val), (b_ids, b_val) = run_parties(body, names=["fund", "broker"])
    assert list(f_ids) == list(b_ids) == sorted(set(ids[fund_rows]) & set(ids[broker_rows]))
    want = np.array([dates[int(c[1:])] >= "2024-07-01" for c in f_ids])
    assert (f_val == want).all() and (b_val == want).all() and 0 < want.sum() < len(want)


def test_cutoff_leaving_no_validation_rows_fails_clearly():
    ids = np.array([f"C{i:03d}" for i in range(30)])
    s = spec(oot_column="opened", oot_cutoff="2030-01-01")

    def body(party):
        inputs = {"cid": ids, "opened": np.full(30, "2024-01-01")}
        ctx = RunContext(s, party.name, party, inputs, lambda f, m: None)
        return SecureBoostTrainRunner()._align(ctx, "fund", ["broker"], ids)

    with pytest.raises(ValueError, match="one side would be empty"):
        run_parties(body, names=["fund", "broker"], timeout=20)
