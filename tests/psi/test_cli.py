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


def test_out_never_replaces_an_input_or_an_existing_file(tmp_path, capsys):
    write_csv(tmp_path / "a.csv", ["id"], [[str(i)] for i in range(2000)])
    write_csv(tmp_path / "b.csv", ["id"], [[str(i)] for i in range(1900, 2100)])
    before = (tmp_path / "a.csv").read_bytes()
    base = ["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input", f"B={tmp_path / 'b.csv'}",
            "--key", "id"]
    for out in (tmp_path / "a.csv", tmp_path / "." / "b.csv"):
        assert main([*base, "--out", str(out), "--force"]) == 1
        assert "is one of the input files" in capsys.readouterr().err
    assert (tmp_path / "a.csv").read_bytes() == before
    (tmp_path / "old.csv").write_text("keep me\n")
    assert main([*base, "--out", str(tmp_path / "old.csv")]) == 1
    assert "exists; use --force" in capsys.readouterr().err
    assert (tmp_path / "old.csv").read_text() == "keep me\n"
    assert main([*base, "--out", str(tmp_path / "nodir" / "o.csv")]) == 1
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.tls
def test_cardinality_out_writes_the_count(tmp_path, capsys):
    write_csv(tmp_path / "a.csv", ["id"], [[str(i)] for i in range(30)])
    (tmp_path / "b.csv").write_text("id;x\n" + "".join(f"{i};y\n" for i in range(20, 50)),
                                    encoding="gb18030")
    out = tmp_path / "n.csv"
    assert main(["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input", f"B={tmp_path / 'b.csv'}",
                 "--key", "id", "--cardinality", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == ["intersection_size", "10"]
    err = capsys.readouterr().err
    assert "B: read 30 rows, CSV in utf-8-sig with ';'" in err


@pytest.mark.tls
def test_streamed_bucketed_run_writes_what_the_whole_file_run_writes(tmp_path, capsys,
                                                                      monkeypatch):
    import yinji.cli.psi as cli_psi

    ids = [make_id(i) for i in range(40)]
    a = [[ids[i % 30].lower(), f"a{i}"] for i in range(45)]          # repeats across chunks
    b = [["１１" + ids[i][2:], f"b{i}"] for i in range(10, 40)] + [["", "empty"]]
    write_csv(tmp_path / "a.csv", ["id", "name"], a)
    write_csv(tmp_path / "b.csv", ["id", "score"], b)
    base = ["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input", f"B={tmp_path / 'b.csv'}",
            "--key", "id", "--validate"]
    assert main([*base, "--buckets", "0", "--out", str(tmp_path / "whole.csv")]) == 0
    assert main([*base, "--buckets", "3", "--chunk-rows", "4", "--lanes", "2",
                 "--out", str(tmp_path / "stream.csv")]) == 0
    err = capsys.readouterr().err
    assert "A: read 45 rows, CSV in utf-8-sig with ',', read in chunks" in err
    assert "15 duplicate; 3 buckets" in err
    whole = (tmp_path / "whole.csv").read_text(encoding="utf-8")
    assert (tmp_path / "stream.csv").read_text(encoding="utf-8") == whole
    assert whole.count("\n") == 21   # header + a10..a29 (a30.. repeat a0..a14: first kept)
    # auto: an input of about AUTO_STREAM_ROWS rows or more streams
    assert cli_psi.estimate_rows(str(tmp_path / "a.csv")) in range(40, 50)
    monkeypatch.setattr(cli_psi, "AUTO_STREAM_ROWS", 40)
    assert main([*base, "--out", str(tmp_path / "auto.csv")]) == 0
    assert "; 1 buckets" in capsys.readouterr().err
    assert (tmp_path / "auto.csv").read_text(encoding="utf-8") == whole


def test_bucket_options_are_checked(tmp_path, capsys):
    write_csv(tmp_path / "a.csv", ["id"], [["1"]])
    two = ["psi", "--input", f"A={tmp_path / 'a.csv'}", "--input", f"B={tmp_path / 'a.csv'}",
           "--key", "id"]
    for extra, said in ((["--buckets", "x"], "expected a number or auto"),
                        (["--buckets", "70000"], "--buckets must be from 0 to 65536"),
                        (["--buckets", "2", "--cardinality"], "two-party intersections"),
                        (["--chunk-rows", "0"], "--chunk-rows must be at least 1")):
        assert main([*two, *extra]) == 1
        assert said in capsys.readouterr().err
