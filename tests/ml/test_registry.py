"""Model registry (JSON/npz, no pickle) and joint inference returning scores to the requester."""

import json

import numpy as np
import pytest

from yinji.ml.registry import (
    ModelMeta,
    ModelRegistry,
    predict_secureboost,
    predict_sslr,
    save_secureboost,
    save_sslr,
)
from yinji.ml.sslr import SSLR
from yinji.testing.datasets import share_vertical
from yinji.testing.mpc import NAMES, run_mpc
from yinji.testing.parties import run_parties


def _meta(name, kind="sslr"):
    return ModelMeta(name=name, version=1, kind=kind, parties=list(NAMES),
                     features={"P0": ["student", "balance"], "P1": ["income"]},
                     label_holder="P1", metrics={"auc": 0.95}, job_id="job-7")


def test_registry_versions_and_list(tmp_path):
    reg = ModelRegistry(tmp_path, "P0")
    reg.save(ModelMeta("m", 0, "fedavg", ["P0"], {"P0": ["a"]}, "P0"), {"params": [1.0, 2.0]})
    reg.save(ModelMeta("m", 0, "fedavg", ["P0"], {"P0": ["a"]}, "P0"), {"params": [3.0]})
    assert reg.versions("m") == [1, 2]
    meta, part = reg.load("m")
    assert meta.version == 2 and part == {"params": [3.0]}
    assert [m.version for m in reg.list()] == [1, 2]
    with pytest.raises(ValueError):
        reg.save(ModelMeta("../evil", 0, "x", [], {}, ""), {})


def test_sslr_save_load_and_joint_inference(tmp_path, default_data):
    tr, te = default_data
    ids = [f"cust-{i}" for i in range(50)]

    def prog(s):
        reg = ModelRegistry(tmp_path / s.party.name, s.party.name)
        x, y = share_vertical(s, tr.x[:3000], tr.y[:3000], split=2)
        model, report = SSLR(epochs=3).fit(x, y, recipient="P1")
        save_sslr(reg, _meta("default-risk"), model)
        direct = model.predict(share_vertical(s, te.x[:50], None, split=2)).reveal_to("P1")
        rows = {0: te.x[:50, :2], 1: te.x[:50, 2:], 2: None}[s.rank]
        served = predict_sslr(s, reg, "default-risk", ids, rows, requester="P1")
        return direct, served

    out = run_mpc(prog)
    assert out[0][1] is None and out[2][1] is None  # only the requester gets scores
    assert np.allclose(out[1][0], out[1][1], atol=2e-3)
    for name in NAMES:  # every party audited the call; its part file holds shares only
        lines = (tmp_path / name / "audit.jsonl").read_text().splitlines()
        ev = json.loads(lines[-1])
        assert ev["requester"] == "P1" and ev["n_ids"] == 50 and "cust-1" not in lines[-1]
        assert (tmp_path / name / "default-risk" / "v1" / "part.npz").exists()


def test_secureboost_joint_inference(tmp_path, default_data):
    pytest.importorskip("heu")
    from yinji.ml.secureboost import SecureBoostActive, SecureBoostConfig, SecureBoostPassive

    tr, te = default_data
    ids = [f"c{i}" for i in range(100)]
    cfg = SecureBoostConfig(n_trees=3, max_depth=2)

    def body(party):
        reg = ModelRegistry(tmp_path / party.name, party.name)
        meta = ModelMeta("sb", 1, "secureboost", ["A", "B"], {"A": ["income"],
                         "B": ["student", "balance"]}, "A")
        if party.name == "A":
            act = SecureBoostActive(party, ["B"], cfg)
            model = act.fit(tr.x[:, 2:], tr.y)
            save_secureboost(reg, meta, model)
            want = act.predict(model, te.x[:100, 2:])
            act.close_serving(model)
            got = predict_secureboost(party, reg, "sb", ids, te.x[:100, 2:], requester="B")
            party.channel("B").send_array(want)
            return got
        part = SecureBoostPassive(party, "A").fit(tr.x[:, :2])
        save_secureboost(reg, meta, part)
        SecureBoostPassive(party, "A").serve(part, te.x[:100, :2])
        got = predict_secureboost(party, reg, "sb", ids, te.x[:100, :2], requester="B")
        return got, party.channel("A").recv_array()

    a, (b, want) = run_parties(body, names=["A", "B"], timeout=120)
    assert a is None and np.allclose(b, want)


def test_cli_lists_models(tmp_path, capsys):
    from yinji.cli.main import main

    reg = ModelRegistry(tmp_path, "P0")
    reg.save(_meta("default-risk"), {"w.0": np.zeros(3), "w.1": np.zeros(3)})
    assert main(["model", "list", "--registry", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "default-risk\tv1\tsslr" in out and "auc=0.9500" in out
    assert main(["model", "show", "--registry", str(tmp_path), "default-risk"]) == 0
    assert '"job_id": "job-7"' in capsys.readouterr().out


def test_cli_names_a_missing_registry_or_model(tmp_path, capsys):
    from yinji.cli.main import main

    with pytest.raises(SystemExit, match="no model registry at .*nowhere"):
        main(["model", "list", "--registry", str(tmp_path / "nowhere")])
    ModelRegistry(tmp_path, "P0").save(_meta("default-risk"), {"w.0": np.zeros(3)})
    with pytest.raises(SystemExit, match="no model named 'nope' .*models: default-risk"):
        main(["model", "show", "--registry", str(tmp_path), "nope"])
    with pytest.raises(SystemExit, match="has no version 7 .*versions: 1"):
        main(["model", "show", "--registry", str(tmp_path), "default-risk", "--version", "7"])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["model", "list", "--registry", str(empty)]) == 0
    assert "no models" in capsys.readouterr().err


def test_metrics_of_a_one_class_test_set_are_refused_with_the_reason():
    from yinji.ml.metrics import OneClassError, binary_report

    with pytest.raises(OneClassError, match="the 4 evaluation rows are all labelled 0"):
        binary_report(np.zeros(4), np.array([0.1, 0.9, 0.3, 0.5]))
    assert binary_report(np.array([0, 1]), np.array([0.2, 0.8]))["auc"] == 1.0
