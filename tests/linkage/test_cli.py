import csv

import pytest

from yinji.cli.main import main
from yinji.testing.linkage_data import FIELDS


@pytest.mark.parametrize("mode", ["unit", "mpc", "stream", "stream-mpc"])
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
    how = {"stream": ["--stream", "--chunk-rows", "70"],
           "stream-mpc": ["--stream", "--chunk-rows", "70", "--mode", "mpc"]}.get(
               mode, ["--mode", mode])
    rc = main(["link", "run", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--key",
               str(tmp_path / "k.bin"), *how, "--out", str(tmp_path / "links.csv"),
               "--truth", str(tmp_path / "truth.csv")])
    assert rc == 0
    err = capsys.readouterr().err
    f1 = float(err.split("F1=")[1].split()[0])
    assert f1 >= 0.95
    rows = list(csv.DictReader(open(tmp_path / "links.csv", encoding="utf-8")))
    assert rows and set(rows[0]) == {"a_id", "b_id", "dice"}
    if mode == "stream-mpc":   # the whole-file MPC run's links, with the same key
        assert main(["link", "run", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"),
                     "--key", str(tmp_path / "k.bin"), "--mode", "mpc", "--out",
                     str(tmp_path / "whole.csv")]) == 0
        whole = list(csv.DictReader(open(tmp_path / "whole.csv", encoding="utf-8")))
        assert sorted(map(tuple, (r.values() for r in rows))) == \
            sorted(map(tuple, (r.values() for r in whole)))


RENAMED = {"id": "id", "name": "姓名", "dob": "出生日期", "gender": "性别", "phone": "手机",
           "id_number": "证件号", "address": "地址"}


def _write_renamed(tmp_path, zh_small):
    for name, rows in (("a", zh_small.a), ("b", zh_small.b)):
        with open(tmp_path / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, [RENAMED[k] for k in FIELDS])
            w.writeheader()
            w.writerows({RENAMED[k]: v for k, v in r.items()} for r in rows)
    assert main(["link", "keygen", "--out", str(tmp_path / "k.bin")]) == 0
    return [str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--key", str(tmp_path / "k.bin"),
            "--mode", "unit", "--out", str(tmp_path / "links.csv")]


def test_other_headers_are_mapped_with_columns(tmp_path, zh_small, capsys):
    args = _write_renamed(tmp_path, zh_small)
    with open(tmp_path / "truth.csv", "w", newline="") as f:
        csv.writer(f).writerows([("a_id", "b_id"), *sorted(zh_small.links)])
    mapping = ",".join(f"{k}={v}" for k, v in RENAMED.items() if k != "id")
    assert main(["link", "run", *args, "--columns", mapping,
                 "--truth", str(tmp_path / "truth.csv")]) == 0
    err = capsys.readouterr().err
    assert "fields used: name (姓名), dob (出生日期)" in err and "not in both files: -" in err
    assert float(err.split("F1=")[1].split()[0]) >= 0.95


@pytest.mark.parametrize("stream", [[], ["--stream"]])
def test_header_mismatch_is_an_error_not_empty_fields(tmp_path, zh_small, capsys, stream):
    args = _write_renamed(tmp_path, zh_small) + stream
    assert main(["link", "run", *args]) == 2
    assert "no field of schema" in capsys.readouterr().err
    assert main(["link", "run", *args, "--columns", "name=全名"]) == 2
    assert "has no column '全名'" in capsys.readouterr().err
    assert main(["link", "run", *args, "--columns", "nickname=姓名"]) == 2
    assert "schema 'person' has no field 'nickname'" in capsys.readouterr().err
    # a partial mapping runs, and says which fields it could not find
    assert main(["link", "run", *args, "--columns", "name=姓名"]) == 0
    assert "not in both files: dob (dob)" in capsys.readouterr().err


def _two_files(tmp_path, a_rows, b_rows, header="id,name,dob"):
    (tmp_path / "a.csv").write_text(header + "\n" + "".join(r + "\n" for r in a_rows), "utf-8")
    (tmp_path / "b.csv").write_text(header + "\n" + "".join(r + "\n" for r in b_rows), "utf-8")
    main(["link", "keygen", "--out", str(tmp_path / "k.bin")])
    return [str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--key", str(tmp_path / "k.bin"),
            "--mode", "unit"]


@pytest.mark.parametrize("a_rows, extra, problem", [
    (["1,张伟,1980-01-02"], ["--id-column", "cust"], "no id column 'cust'"),
    (["1,张伟,1980-01-02", "1,李娜,1981-02-03"], [], "id '1' in column 'id' on rows 2 and 3"),
    (["1,张伟,1980-01-02", ",李娜,1981-02-03"], [], "row 3: empty id"),
    ([], [], "no records"),
    (["1,张伟,1980-01-02"], ["--threshold", "1.5"], "--threshold 1.5"),
])
def test_link_inputs_that_would_give_a_wrong_table_are_refused(tmp_path, capsys, a_rows, extra,
                                                               problem):
    args = _two_files(tmp_path, a_rows, ["7,张伟,1980-01-02"])
    assert main(["link", "run", *args, *extra]) == 2
    assert problem in capsys.readouterr().err
    assert main(["link", "run", *args, *extra, "--stream"]) == 2   # the same from chunks
    assert problem in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["unit", "mpc"])
def test_streamed_links_are_written_as_found_and_a_failed_run_leaves_no_table(
        tmp_path, zh_small, capsys, mode):
    """Without --truth the streamed run writes links block by block as they are resolved:
    the same table as --truth's in-memory list; a run that fails leaves no --out file."""
    for name, rows in (("a", zh_small.a), ("b", zh_small.b)):
        with open(tmp_path / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(rows)
    (tmp_path / "k.bin").write_bytes(b"k" * 32)
    run = ["link", "run", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--key",
           str(tmp_path / "k.bin"), "--stream", "--chunk-rows", "50", "--mode", mode]
    with open(tmp_path / "truth.csv", "w", newline="") as f:
        csv.writer(f).writerows([("a_id", "b_id"), *sorted(zh_small.links)])
    assert main([*run, "--out", str(tmp_path / "kept.csv"), "--truth",
                 str(tmp_path / "truth.csv")]) == 0
    assert main([*run, "--out", str(tmp_path / "sunk.csv")]) == 0
    kept, sunk = ((tmp_path / n).read_text(encoding="utf-8").splitlines()
                  for n in ("kept.csv", "sunk.csv"))
    assert len(sunk) > 20 and sorted(sunk) == sorted(kept)
    capsys.readouterr()
    with open(tmp_path / "b.csv", "a", encoding="utf-8") as f:   # a repeated id
        f.write(f"{zh_small.b[0]['id']},x,1980-01-02,,,,\n")
    assert main([*run, "--out", str(tmp_path / "failed.csv")]) == 2
    assert "record ids must be unique" in capsys.readouterr().err
    assert not any(p.name.startswith((".failed", "failed")) for p in tmp_path.iterdir())
    from yinji.cli.link import _Output  # a failure after some links were written, too

    with pytest.raises(ValueError), _Output(str(tmp_path / "late.csv")) as out:
        out.write([("a1", "b1", 0.93)])
        raise ValueError("a peer went away")
    assert not any(p.name.startswith((".late", "late")) for p in tmp_path.iterdir())


@pytest.mark.parametrize("stream", [[], ["--stream"]])
def test_link_key_and_files_are_checked(tmp_path, capsys, stream):
    args = _two_files(tmp_path, ["1,张伟,1980-01-02"], ["7,张伟,1980-01-02"]) + stream
    (tmp_path / "short.key").write_bytes(b"x" * 8)
    assert main(["link", "run", *args[:2], "--key", str(tmp_path / "short.key")]) == 2
    assert "8 bytes" in capsys.readouterr().err
    assert main(["link", "run", *args[:2], "--key", str(tmp_path / "none.key")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["link", "run", str(tmp_path / "nope.csv"), *args[1:]]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err


@pytest.mark.parametrize("stream", [[], ["--stream"]])
def test_link_row_ids_on_request(tmp_path, capsys, stream):
    args = _two_files(tmp_path, ["张伟,1980-01-02"], ["张伟,1980-01-02"], header="name,dob") + stream
    assert main(["link", "run", *args, "--id-column", "@row"]) == 0
    assert "0,0," in capsys.readouterr().out


@pytest.mark.parametrize("stream", [[], ["--stream", "--chunk-rows", "1"]])
def test_link_reports_dates_it_cannot_read(tmp_path, capsys, stream):
    args = _two_files(tmp_path, ["1,张伟,1985-02-30", "2,李娜,sometime", "3,王芳,18-Apr-1970"],
                      ["7,张伟,1980-01-02"]) + stream
    assert main(["link", "run", *args]) == 0
    err = capsys.readouterr().err
    assert "a.csv: dob: 1 unreadable date(s) (left out), e.g. row 3 'sometime'" in err
    assert "a.csv: dob: 1 impossible date(s) (kept as written), e.g. row 2 '1985-02-30'" in err
    assert "b.csv: dob" not in err


def test_stream_runs_the_mpc_mode_and_checks_chunk_rows(tmp_path, capsys):
    args = _two_files(tmp_path, ["1,张伟,1980-01-02"], ["7,张伟,1980-01-02"])
    assert main(["link", "run", *args, "--mode", "mpc", "--stream"]) == 0
    assert "1 candidate pairs, 1 links" in capsys.readouterr().err
    assert main(["link", "run", *args, "--chunk-rows", "0"]) == 2
    assert "--chunk-rows 0" in capsys.readouterr().err


@pytest.mark.parametrize("how", [["--stream"], ["--mode", "unit"], ["--mode", "mpc"]])
def test_ray_flag_runs_encoding_on_the_named_cluster(tmp_path, capsys, monkeypatch, how):
    """`--ray ADDRESS` hands encoding and blocking to RayWorkers(ADDRESS) (a stand-in here
    that runs the tasks on threads; tests/linkage/test_stream.py runs a real local Ray) and
    closes it; the links are those of the run without it."""
    import yinji.net.workers as w

    made = []

    class FakeRay(w.LocalWorkers):
        def __init__(self, address):
            super().__init__(2)
            self.address, self.calls, self.closed = address, 0, False
            made.append(self)

        def map(self, fn, args):
            self.calls += 1
            return super().map(fn, args)

        def close(self):
            self.closed = True

    monkeypatch.setattr(w, "RayWorkers", FakeRay)
    rows = [f"{i},张伟{i},1980-01-{i % 28 + 1:02d}" for i in range(1, 40)]
    args = _two_files(tmp_path, rows, rows)[:-2] + how
    assert main(["link", "run", *args]) == 0
    plain = capsys.readouterr().out
    assert main(["link", "run", *args, "--ray", "10.0.0.5:6379"]) == 0
    out = capsys.readouterr()
    assert sorted(out.out.splitlines()) == sorted(plain.splitlines()) and len(plain.splitlines()) > 10
    assert [(m.address, m.closed) for m in made] == [("10.0.0.5:6379", True)]
    assert made[0].calls >= (1 if how == ["--stream"] else 0)
    assert "ray: 2 worker CPU(s)" in out.err
