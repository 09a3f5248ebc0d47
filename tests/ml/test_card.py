"""Model cards and the model-health report: written beside model.json, read back, shown by
`yinji model show`, rendered by `yinji model report`; NaN never reaches the JSON."""

import json

import numpy as np
import pytest

from yinji.ml import card, health
from yinji.ml.registry import ModelMeta, ModelRegistry


def _meta():
    return ModelMeta("risk", 0, "secureboost", ["fund", "securities"],
                     {"fund": ["income"], "securities": ["assets", "trades"]}, "fund",
                     {"auc": 0.8}, "job-1",
                     params={"datasets": {"fund": "leads", "securities": "acct"},
                             "id_columns": {"fund": "cid", "securities": "id"},
                             "label": "converted", "rows": 90, "validation_rows": 30})


def _report():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = 1 / (1 + np.exp(-(y + rng.normal(size=300))))
    return health.report(y, p, title="health")


def test_card_round_trip_and_cli(tmp_path, capsys):
    from yinji.cli.main import main

    reg = ModelRegistry(tmp_path, "fund")
    meta = reg.save(_meta(), {"trees": []})
    rep = card.finite_json(_report())
    approvals = [{"node": "fund", "decision": "approve", "hash": "ab",
                  "record_json": json.dumps({"ts": 1.5, "reason": "policy"})}]
    doc = card.build_card(meta, protocol="model.secureboost", leakage="Leakage: x.",
                          approvals=approvals, health={**rep["data"], "hl_pvalue": float("nan")})
    doc["importance"] = {"features": [{"feature": "income", "gain": float("nan"), "splits": 2}],
                         "groups": [{"party": "fund", "gain": 3.0, "splits": 2, "share": 1.0}]}
    rep["tables"]["model card"] = card.card_table(card.finite_json(doc))
    card.write_card(reg, doc, rep)
    got = card.read_card(reg, "risk")
    assert got["data"]["securities"] == {"dataset": "acct", "id_column": "id",
                                         "features": ["assets", "trades"]}
    assert got["data"]["fund"]["label"] == "converted" and got["rows"]["validation"] == 30
    assert got["approvals"] == [{"node": "fund", "decision": "approve", "at": 1.5,
                                 "reason": "policy", "approval_hash": "ab"}]
    assert got["metrics"]["auc"] == rep["data"]["auc"] and got["metrics"]["hl_pvalue"] is None
    assert card.read_health(reg, "risk")["tables"]["lift"]["rows"]
    assert main(["model", "show", "--registry", str(tmp_path), "risk"]) == 0
    shown = json.JSONDecoder().raw_decode(capsys.readouterr().out)[0]   # then prep lines
    assert shown["card"]["leakage"] == "Leakage: x." and shown["job_id"] == "job-1"
    table = dict(map(tuple, card.read_health(reg, "risk")["tables"]["model card"]["rows"]))
    assert table["data: securities"] == "dataset acct, ID column id, features assets, trades"
    assert table["approval: fund"] == "approve at 1.5 (policy)"
    assert table["leakage"] == "Leakage: x." and table["metric: hl_pvalue"] is None
    assert table["importance: income"] == "total gain n/a, 2 splits"
    assert table["importance: fund's features"] == "total gain 3 (100.0%), 2 splits"
    out = tmp_path / "out"
    assert main(["model", "report", "--registry", str(tmp_path), "risk", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"report.html", "report.xlsx", "ROC.csv",
                                               "KS.csv", "calibration.csv", "lift.csv",
                          "model_card.csv"}
    assert "<svg" in (out / "report.html").read_text()


def test_missing_card_and_health(tmp_path):
    from yinji.cli.main import main

    reg = ModelRegistry(tmp_path, "securities")
    reg.save(_meta(), {"splits": {}})
    assert card.read_card(reg, "risk") is None and card.read_health(reg, "risk") is None
    with pytest.raises(KeyError):
        card.read_card(reg, "nope")
    with pytest.raises(KeyError, match="version 3"):
        card.write_card(reg, {"model": "risk", "version": 3})
    with pytest.raises(SystemExit, match="no health report"):
        main(["model", "report", "--registry", str(tmp_path), "risk", "--out", str(tmp_path)])


def test_leakage_statement_from_docstrings():
    from yinji.ml import secureboost, sslr, woe

    sb = card.leakage_statement(secureboost.__doc__)
    assert sb.startswith("Leakage, training") and "Assisted mode" in sb \
        and "Leakage, prediction" in sb
    assert card.leakage_statement(sslr.__doc__).startswith("Leakage: all parties learn")
    assert "O learns" in card.leakage_statement(woe.__doc__)
    assert card.leakage_statement(None) == ""


def test_health_report_is_a_valid_app_report():
    from yinji.apps.base import Report
    from yinji.apps.report import checked

    rep = checked(Report.from_json(card.finite_json(_report())))
    assert set(rep.tables) == {"ROC", "KS", "calibration", "lift"}
    assert len(rep.tables["ROC"]["rows"]) <= 101 and len(rep.charts) == 5
    assert rep.summary[1].startswith("AUC")


def test_stability_baseline_and_cli(tmp_path, capsys):
    from yinji.cli.main import main

    rng = np.random.default_rng(5)
    reg = ModelRegistry(tmp_path, "securities")
    reg.save(_meta(), {"splits": {}})
    train = rng.normal(size=(2000, 2))
    scores = rng.uniform(size=500)
    card.write_baseline(reg, "risk", 1, {
        "features": {"assets": health.baseline(train[:, 0]),
                     "trades": health.baseline(train[:, 1])},
        "rows": 2000, "score": health.baseline(scores)})
    later = np.c_[rng.normal(size=800), rng.normal(1.5, 1, 800)]
    later_scores = rng.uniform(size=800)
    data = tmp_path / "later.csv"
    data.write_text("id,assets,trades,score\n" + "".join(
        f"c{i},{a},{t},{s}\n" for i, (a, t, s) in enumerate(zip(*later.T, later_scores,
                                                                strict=True))))
    assert main(["model", "stability", "--registry", str(tmp_path), "risk", "--data",
                 str(data), "--score-column", "score"]) == 0
    out = [ln.split("\t") for ln in capsys.readouterr().out.splitlines()]
    assert [(r[0], r[1], r[3]) for r in out] == [("score", "PSI", "stable"),
                                                  ("assets", "CSI", "stable"),
                                                  ("trades", "CSI", "shifted")]
    want = health.psi(train[:, 1], later[:, 1])
    assert float(out[2][2]) == pytest.approx(want, abs=1e-4)
    # the same population as a GBK file with Chinese ids and ';' (as Excel saves it): same answer
    gbk = tmp_path / "later_gbk.csv"
    gbk.write_bytes(data.read_text().replace(",", ";").replace("\nc", "\n客户").encode("gb18030"))
    assert main(["model", "stability", "--registry", str(tmp_path), "risk", "--data",
                 str(gbk), "--score-column", "score"]) == 0
    assert [ln.split("\t") for ln in capsys.readouterr().out.splitlines()] == out
    data.write_text("id,assets\nc1,oops\n")
    with pytest.raises(SystemExit, match="column 'assets'"):
        main(["model", "stability", "--registry", str(tmp_path), "risk", "--data", str(data)])
    with pytest.raises(ValueError, match="no baseline for margin"):
        health.stability(card.read_baseline(reg, "risk"), {"margin": np.zeros(3)})
