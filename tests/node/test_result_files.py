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


def test_a_link_file_from_the_unit_is_kept_only_if_it_matches_its_digest(tmp_path, monkeypatch):
    from yinji.net.memory import memory_network
    from yinji.node import linkage_runner as lr

    unit, owner = memory_network(["compliance", "securities"])
    entry, _ = write_table(tmp_path / "unit", "links-a-b.csv", ["a_record", "b_record", "score"],
                           iter([["A1", "B7", 0.93], ["A2", "B9", 0.88]]))
    monkeypatch.setattr(lr, "FILE_BLOCK", 16)   # several messages per file
    sent = tmp_path / "unit" / "links-a-b.csv"
    lr._send_file(unit.channel("securities"), sent)
    lr._recv_file(owner.channel("compliance"), tmp_path / "owner", {"file": entry})
    assert (tmp_path / "owner" / "links-a-b.csv").read_bytes() == sent.read_bytes()
    # the same bytes announced with another digest: refused, nothing kept
    lr._send_file(unit.channel("securities"), sent)
    with pytest.raises(ValueError, match="does not match its SHA-256"):
        lr._recv_file(owner.channel("compliance"), tmp_path / "other",
                      {"file": dict(entry, sha256="0" * 64)})
    assert list((tmp_path / "other").iterdir()) == []
    for bad in ({"name": "../../etc.csv"}, {"name": None}):
        with pytest.raises(ValueError, match="cannot keep"):
            lr._recv_file(owner.channel("compliance"), tmp_path / "x", {"file": dict(entry, **bad)})
    for size in (0, -5, 1 << 41, "12", True):   # a size from the unit is checked before use
        with pytest.raises(ValueError, match="size out of range"):
            lr._recv_file(owner.channel("compliance"), tmp_path / "x",
                          {"file": dict(entry, bytes=size)})
    assert not (tmp_path / "x").exists()


def test_result_messages_between_nodes_are_bounded(monkeypatch):
    """The linkage unit's result JSON to a recipient: refused past RESULT_LIMIT before it is
    read, by the recipient (naming the unit and the size), and not sent by the unit; the
    same bound the other way round passes a message that fits."""
    from yinji.node import result_files
    from yinji.node.linkage_runner import LinkageRunner
    from yinji.node.result_files import MessageTooLarge, check_size
    from yinji.node.runners import RunContext
    from yinji.testing.parties import run_parties

    runner = LinkageRunner("linkage.match")
    spec = {"params": {"unit": "unit"}, "recipients": ["unit", "bank"]}
    links = [["a" * 40, "b" * 40, 0.9]] * 40

    def body(party, cheat):
        ctx = RunContext(spec, party.name, party, None, lambda f, s: None)
        if party.name == "unit" and cheat:   # a unit that skips its own check
            party.channel("bank").send_bytes(b"[" + b"1," * 5000 + b"1]")
            return None
        return runner._deliver(ctx, "unit", [{"owners": ["a", "b"], "links": links}])
    monkeypatch.setattr(result_files, "RESULT_LIMIT", 8192)
    unit, bank = run_parties(body, names=["unit", "bank"], args=[(False,), (False,)])
    assert bank == unit and bank["tables"][0]["links"] == links
    with pytest.raises(MessageTooLarge, match=r"from unit refused: .*10003 bytes"):
        run_parties(body, names=["unit", "bank"], args=[(True,), (True,)])
    monkeypatch.setattr(result_files, "RESULT_LIMIT", 1024)
    with pytest.raises(MessageTooLarge, match="the linkage result for bank is .* bytes, over "
                                              "the limit of 1024 bytes; run the job on a "
                                              "stream"):
        run_parties(body, names=["unit", "bank"], args=[(False,), (False,)], timeout=5)
    assert check_size(b"x" * 10, "m", "p", 10) == b"x" * 10
    with pytest.raises(MessageTooLarge):
        check_size(b"x" * 11, "m", "p", 10)
