import csv

import pytest

from yinji.cli.main import main
from yinji.testing.linkage_data import FIELDS


@pytest.mark.parametrize("mode", ["unit", "mpc"])
def test_link_run_from_csv_with_truth(tmp_path, zh_small, mode, capsys):
    assert main(["link", "keygen", "--out", str(tmp_path / "k.bin")]) == 0
    assert main(["link", "keygen", "--out", str(tmp_path / "k.bin")]) == 1  # no overwrite
    for name, rows in (("a", zh_small.a), ("b", zh_small.b)):
        with open(tmp_path / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(rows)
    with open(tmp_path / "truth.csv", "w", newline="") as f:
        csv.writer(f).writerows([("a_id", "b_id"), *sorted(zh_small.links)])
    rc = main(["link", "run", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--key",
               str(tmp_path / "k.bin"), "--mode", mode, "--out", str(tmp_path / "links.csv"),
               "--truth", str(tmp_path / "truth.csv")])
    assert rc == 0
    err = capsys.readouterr().err
    f1 = float(err.split("F1=")[1].split()[0])
    assert f1 >= 0.95
    rows = list(csv.DictReader(open(tmp_path / "links.csv", encoding="utf-8")))
    assert rows and set(rows[0]) == {"a_id", "b_id", "dice"}
