"""Large job results as files (`yinji.node.result_files`): the file, its digest and the inline
copy; a failed write or job leaves nothing behind."""

import hashlib

import pytest

from yinji.node.result_files import write_table
from yinji.node.runners import RUNNERS

from .test_hardening import pair, proposal  # noqa: F401


def test_the_file_its_digest_and_the_inline_copy(tmp_path):
    rows = [[f"C{i:05d}", "甲,乙"] for i in range(7)]   # a comma and non-ASCII text survive
    entry, inline = write_table(tmp_path / "job", "t.csv", ["id", "name"], iter(rows), inline=7)
    data = (tmp_path / "job" / "t.csv").read_bytes()
    assert data.decode().splitlines()[0] == "id,name"
    assert data.decode().splitlines()[1] == 'C00000,"甲,乙"'
    assert entry == {"name": "t.csv", "rows": 7, "bytes": len(data),
                     "sha256": hashlib.sha256(data).hexdigest()}
    assert inline == rows
    entry, inline = write_table(tmp_path / "job", "u.csv", ["id"], ([r[0]] for r in rows),
                                inline=6)
    assert inline is None and entry["rows"] == 7      # over the inline bound: the file only
    entry, inline = write_table(tmp_path / "job", "e.csv", ["id"], iter([]))
    assert entry["rows"] == 0 and inline == [] and entry["bytes"] == len(b"id\n")


def test_a_failure_while_writing_leaves_no_file(tmp_path):
    def rows():
        yield ["a"]
        raise ValueError("cannot read the dataset again: disk gone")
    with pytest.raises(ValueError, match="disk gone"):
        write_table(tmp_path, "t.csv", ["id"], rows())
    assert list(tmp_path.iterdir()) == []


def test_a_failed_job_leaves_no_result_folder(pair, monkeypatch):  # noqa: F811
    """A runner that wrote part of its result file and then failed: the job fails everywhere
    and this node keeps no file of it."""
    node, _ = pair
    spec = proposal()
    node.jobs.handle("fund", {"type": "propose", "spec": spec})
    assert node.store.transition(spec["id"], "approved", ("proposed",))

    class Party:
        def close(self):
            pass
    monkeypatch.setattr(node.dataplane, "job_party", lambda *a: Party())
    seen = []

    def run(ctx):
        write_table(ctx.folder, "intersection.csv", ["customer_id"], iter([["G1"]]))
        seen.append(ctx.folder)
        raise ConnectionError("peer went away")
    monkeypatch.setattr(RUNNERS["psi.intersect"], "run", run)
    node.jobs._run(spec["id"])
    row = node.store.job(spec["id"])
    assert row["state"] == "failed" and "peer went away" in row["reason"]
    assert seen == [node.jobs.results_dir(spec["id"])] and not seen[0].exists()
