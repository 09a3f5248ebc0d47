"""Streamed PIR builds (yinji.pir.build): byte for byte the in-memory build, answered the same
from disk, the same on threads and on a local Ray, and clear errors leaving nothing behind."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from yinji.chunks import Stream
from yinji.crypto.prg import Prg
from yinji.net.workers import LocalWorkers
from yinji.pir import build as pir_build
from yinji.pir.build import BuildError, build_stream, open_version
from yinji.pir.keyword import build_version, open_bucket
from yinji.pir.lwe import LweParams, SimplePirClient, SimplePirServer, expand_a, expand_a_rows
from yinji.pir.oprf import OprfServer, build_tokens
from yinji.pir.records import RecordError, build_records, label_size_for

SEED, FILL = bytes(range(16)), bytes(range(16, 32))


def write_csv(path, rows, fields=("id", "tag", "note")):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(fields))
        w.writeheader()
        w.writerows(rows)
    return path


def table(n, seed=1):
    rng = np.random.default_rng(seed)
    return [{"id": f"K{int(v):09d}", "tag": ["aml", "fraud", "pep", ""][i % 4],
             "note": "n" * int(rng.integers(0, 40)) + "é-" + str(-int(v))}
            for i, v in enumerate(rng.choice(10**9, size=n, replace=False))]


def reference(rows, oprf, version, label_size=None, buckets=None, key_kind="auto"):
    """The in-memory build of the same records (KeywordDatabase's path), same seed and fill."""
    records = build_records(rows, "id", ["tag", "note"], "ref", key_kind)
    keys = [k.encode() for k, _ in records]
    size = label_size_for(records, label_size)
    return build_version(oprf.tokens(keys), [lab for _, lab in records], size, version,
                         buckets, key_kind=key_kind, seed=SEED, fill=Prg(FILL).bytes)


def streamed(path, oprf, folder, **kw):
    kw.setdefault("version", "v1-test")
    return build_stream(path, "id", ["tag", "note"], oprf, folder, seed=SEED,
                        fill=Prg(FILL).bytes, **kw)


def matrix_of(version):
    return version.pir._db.astype(np.int8).view(np.uint8)   # SimplePirServer's D


def fetch(version, key, oprf):
    """One client lookup: OPRF token, PIR query of its bucket, trial decryption."""
    token = oprf.tokens([key.encode()])[0]
    client = SimplePirClient(version.params, version.pir.hint)
    state, q = client.query([version.layout.bucket_of(token)])
    column = client.recover(state, version.pir.answer(q))[:, 0]
    return open_bucket(column, token, version.version, version.layout)


def test_prg_offset_and_a_rows_match_the_whole_stream():
    whole = Prg(SEED).bytes(4096)
    assert Prg(SEED, offset=1024).bytes(512) == whole[1024:1536]
    params = LweParams(rows=3, cols=37, seed=SEED)
    assert np.array_equal(expand_a_rows(params, 5, 21), expand_a(params)[5:21])
    with pytest.raises(ValueError, match="multiple of 16"):
        Prg(SEED, offset=8)


def test_build_tokens_are_the_oprf_tokens():
    oprf = OprfServer()
    keys = [b"a", b"", "张三".encode(), b"x" * 300]
    assert [t.tobytes() for t in build_tokens(oprf.build_key(), keys)] == oprf.tokens(keys)


@pytest.mark.parametrize("n, chunk, block", [(0, 7, 1 << 16), (1, 7, 1 << 16),
                                              (700, 64, 1 << 17), (2500, 1000, 1 << 20)])
def test_streamed_build_is_the_in_memory_build(tmp_path, n, chunk, block):
    rows = table(n)
    path = write_csv(tmp_path / "list.csv", rows)
    oprf = OprfServer()
    got = streamed(path, oprf, tmp_path / "db", chunk_rows=chunk, block_bytes=block,
                   workers=LocalWorkers(2))
    ref = reference(rows, oprf, "v1-test")
    assert got.layout == ref.layout and got.params == ref.params and got.records == n
    assert np.array_equal(got.pir.matrix(), matrix_of(ref))
    assert np.array_equal(got.pir.hint, ref.pir.hint)
    q = Prg(SEED).uint64((ref.params.cols, 3)).astype(np.uint32)
    assert np.array_equal(got.pir.answer(q), ref.pir.answer(q))
    assert got.pir.block < got.params.cols or block > 1 << 16 or n < 100
    for r in rows[:3]:
        label = json.loads(fetch(got, r["id"], oprf))
        assert label == {"tag": r["tag"], "note": r["note"]}
    assert fetch(got, "K-absent", oprf) is None
    assert sorted(p.name for p in (tmp_path / "db").iterdir()) == ["v1-test"]
    again = open_version(tmp_path / "db" / "v1-test")
    assert again.describe() == got.describe() and again.records == n


def test_explicit_buckets_label_size_and_key_kinds(tmp_path):
    rows = [{"id": f"11010519491231002{c}", "tag": "t", "note": ""} for c in "0123456789"]
    rows += [{"id": "11010519491231003x", "tag": "lower", "note": "x"}]
    path = write_csv(tmp_path / "ids.csv", rows)
    oprf = OprfServer()
    got = streamed(path, oprf, tmp_path / "db", buckets=4, label_size=48, chunk_rows=3)
    ref = reference(rows, oprf, "v1-test", label_size=48, buckets=4)
    assert got.layout == ref.layout and got.layout.key_kind == "auto"
    assert np.array_equal(got.pir.matrix(), matrix_of(ref))
    assert json.loads(fetch(got, "11010519491231003X", oprf))["tag"] == "lower"


def test_ray_build_is_the_local_build(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    from yinji.net.workers import RayWorkers

    monkeypatch.setattr(pir_build, "_MIN_PIECE", 16)   # several OPRF/seal tasks per chunk
    rows = table(900, seed=5)
    path = write_csv(tmp_path / "list.csv", rows)
    oprf = OprfServer()
    local = streamed(path, oprf, tmp_path / "local", chunk_rows=300, block_bytes=1 << 15,
                     workers=LocalWorkers(1))
    ray_workers = RayWorkers(None, cpus=1, local_cpus=2)   # a local cluster of two CPUs
    try:
        assert ray_workers.size == 2
        on_ray = streamed(path, oprf, tmp_path / "ray", chunk_rows=300, block_bytes=1 << 15,
                          workers=ray_workers)
    finally:
        ray_workers.close()
    assert on_ray.layout == local.layout and on_ray.params.cols > on_ray.pir.block
    assert np.array_equal(on_ray.pir.matrix(), local.pir.matrix())
    assert np.array_equal(on_ray.pir.hint, local.pir.hint)
    assert np.array_equal(on_ray.pir.hint, SimplePirServer(local.pir.matrix(),
                                                           local.params).hint)


def left_behind(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_bad_records_are_named_and_leave_nothing(tmp_path):
    rows = table(50)
    oprf = OprfServer()
    dup = write_csv(tmp_path / "dup.csv", rows[:20] + [rows[3]] + rows[20:] + [rows[40],
                                                                                 rows[3]])
    with pytest.raises(RecordError, match=r"3 duplicate key\(s\) in column 'id', e\.g\. "
                       rf"'{rows[3]['id']}' \(rows 4 and 21\); '{rows[40]['id']}' \(rows 42 and "
                       rf"52\); '{rows[3]['id']}' \(rows 4 and 53\)"):
        streamed(dup, oprf, tmp_path / "db", chunk_rows=8)
    assert left_behind(tmp_path / "db") == []
    sheet = write_csv(tmp_path / "sheet.csv", rows[:9] + [dict(rows[9], id="1.10105E+17")])
    with pytest.raises(RecordError, match=r"1 key\(s\) .*spreadsheet.*rows \[10\]"):
        streamed(sheet, oprf, tmp_path / "db", chunk_rows=4)
    empty = write_csv(tmp_path / "empty.csv", rows[:5] + [dict(rows[5], id="  ")])
    with pytest.raises(RecordError, match="row 6: empty key in column 'id'"):
        streamed(empty, oprf, tmp_path / "db", chunk_rows=4)
    long = write_csv(tmp_path / "long.csv", rows[:3] + [dict(rows[3], note="z" * 2000)])
    with pytest.raises(RecordError, match=r"1 label\(s\) longer than 1024 bytes \(rows 4;"):
        streamed(long, oprf, tmp_path / "db")
    with pytest.raises(RecordError, match="the longest label is"):
        streamed(long, oprf, tmp_path / "db", label_size=64)
    with pytest.raises(ValueError, match=r"no column\(s\) \[.risk.\]"):
        build_stream(long, "id", ["risk"], oprf, tmp_path / "db")
    assert left_behind(tmp_path / "db") == []


def test_full_disk_bad_chunk_and_failing_worker_leave_nothing(tmp_path, monkeypatch):
    rows = table(300)
    path = write_csv(tmp_path / "list.csv", rows)
    oprf = OprfServer()
    real = pir_build.shutil.disk_usage
    monkeypatch.setattr(pir_build.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=10_000))
    with pytest.raises(BuildError, match=r"not enough disk space to build .*MiB free"):
        streamed(path, oprf, tmp_path / "db")
    monkeypatch.setattr(pir_build.shutil, "disk_usage", real)

    def chunks():
        yield [[r["id"], r["tag"], r["note"]] for r in rows[:100]]
        raise OSError("connection reset while reading")

    stream = Stream(["id", "tag", "note"], chunks(), "sql")
    with pytest.raises(BuildError, match="a chunk after row 100 could not be read .*reset"):
        build_stream(stream, "id", ["tag", "note"], oprf, tmp_path / "db")

    def broken(*args):
        raise MemoryError("worker lost")

    monkeypatch.setattr(pir_build, "_hint_task", broken)
    with pytest.raises(MemoryError, match="worker lost"):
        streamed(path, oprf, tmp_path / "db")
    assert left_behind(tmp_path / "db") == []
    monkeypatch.undo()
    streamed(path, oprf, tmp_path / "db")
    with pytest.raises(BuildError, match="exists already"):
        streamed(path, oprf, tmp_path / "db")
    assert left_behind(tmp_path / "db") == ["v1-test"]


def test_work_in_progress_is_private_and_hidden(tmp_path):
    """While building, keys' tokens and plaintext labels sit only in a 0700 hidden folder;
    the version's folder appears, complete, at the end."""
    import stat

    path = write_csv(tmp_path / "list.csv", table(200))
    seen = []

    def progress(stage, done, total):
        entries = list((tmp_path / "db").iterdir())
        seen.append((stage, [(p.name, stat.S_IMODE(p.stat().st_mode)) for p in entries]))

    streamed(path, OprfServer(), tmp_path / "db", progress=progress, chunk_rows=64)
    assert {s for s, _ in seen} == {"oprf", "seal", "hint"}
    for _, entries in seen:
        [(name, mode)] = entries
        assert name.startswith(".build-v1-test-") and mode == 0o700
    assert stat.S_IMODE((tmp_path / "db").stat().st_mode) == 0o700
