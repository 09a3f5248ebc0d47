import csv

import pytest

from yinji.cli.main import main
from yinji.psi.keys import id_check_char


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def make_id(i):
    p = f"11010519900101{i:03d}"
    return p + id_check_char(p)


@pytest.mark.tls
def test_two_party_over_tls(tmp_path, capsys):
    ids = [make_id(i) for i in range(20)]
    ids[3] = ids[3][:-1] + "x" if ids[3].endswith("X") else ids[3]
    a = [[ids[i].lower(), f"a{i}"] for i in range(10)]
    b = [["１１" + ids[i][2:], f"b{i}"] for i in range(5, 15)] + [[ids[6], "dup"]]
    write_csv(tmp_path / "a.csv", ["id", "name"], a)
    write_csv(tmp_path / "b.csv", ["id", "score"], b)
    out = tmp_path / "out.csv"
    rc = main(["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input", f"B={tmp_path / 'b.csv'}",
               "--key", "id", "--validate", "--out", str(out)])  # kind "auto"
    assert rc == 0
    rows = list(csv.reader(open(out, encoding="utf-8")))
    assert rows[0] == ["id", "name"]
    assert [r[1] for r in rows[1:]] == [f"a{i}" for i in range(5, 10)]
    assert "intersection size: 5" in capsys.readouterr().out


@pytest.mark.tls
def test_multiparty_and_cardinality_over_tls(tmp_path, capsys):
    for name, rng in (("a", range(0, 10)), ("b", range(3, 12)), ("c", range(5, 20))):
        write_csv(tmp_path / f"{name}.csv", ["k", "m"], [[f"k{i}", f"{i}"] for i in rng])
    inputs = [x for n in "abc" for x in ("--input", f"{n.upper()}={tmp_path / (n + '.csv')}")]
    out = tmp_path / "o.csv"
    assert main(["psi", *inputs, "--key", "k", "--key", "m", "--receiver", "B",
                 "--out", str(out)]) == 0
    rows = list(csv.reader(open(out, encoding="utf-8")))
    assert [r[0] for r in rows[1:]] == [f"k{i}" for i in range(5, 10)]
    assert main(["psi", *inputs[:4], "--key", "k", "--cardinality"]) == 0
    assert "intersection size: 7" in capsys.readouterr().out


def test_clear_errors(tmp_path, capsys):
    write_csv(tmp_path / "a.csv", ["id"], [["1"]])
    assert main(["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input", "B=/nope.csv",
                 "--key", "id"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["psi", "--input", f"A={tmp_path / 'a.csv'}", "--key", "id"]) == 1
    assert "at least two" in capsys.readouterr().err
    assert main(["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input",
                 f"B={tmp_path / 'a.csv'}", "--key", "id", "--kind", "zz=id"]) == 1
    assert "KEYCOLUMN=KIND" in capsys.readouterr().err


@pytest.mark.tls
def test_missing_column_is_reported(tmp_path, capsys):
    write_csv(tmp_path / "a.csv", ["id"], [["1"]])
    write_csv(tmp_path / "b.csv", ["other"], [["1"]])
    assert main(["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input",
                 f"B={tmp_path / 'b.csv'}", "--key", "id", "--timeout", "20"]) == 1
    assert "no column(s) ['id']" in capsys.readouterr().err
