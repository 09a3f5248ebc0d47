import os
import stat

from yinji.psi.unbalanced import UbClientCache, UbServer, ub_client
from yinji.testing.parties import run_parties


def run(srv, client_keys, cache, record=False):
    def body(party):
        if party.name == "S":
            srv.serve(party, "C")
            return None
        got = []
        ch = party.channel("S")
        f = ch.recv_array
        if record:
            ch.recv_array = lambda: got.append(f()) or got[-1]
        return ub_client(party, "S", client_keys, cache), got
    return run_parties(body, names=["S", "C"])[1]


def test_prepare_once_serve_many_and_update(tmp_path):
    big = [f"c{i}".encode() for i in range(3000)]
    srv = UbServer.create(tmp_path / "srv", big)
    key_file = tmp_path / "srv" / "oprf.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_bytes() not in (tmp_path / "srv" / "tags.npy").read_bytes()
    cache = UbClientCache(tmp_path / "client")
    small = [b"c5", b"zz", b"c2999", b"c77"]
    got, _ = run(srv, small, cache)
    assert got.tolist() == [0, 2, 3]
    assert cache.version == 1 and len(cache.tags) == 3000
    # Reopen from disk (no recomputation), add and remove incrementally.
    srv = UbServer.open(tmp_path / "srv")
    assert srv.add([b"zz", b"c5"]) == 1
    assert srv.remove([b"c77", b"nope"]) == 1
    got, seen = run(srv, small, UbClientCache(tmp_path / "client"), record=True)
    assert got.tolist() == [0, 1, 2]
    # The client received deltas (1 added, 1 removed), not the whole set again.
    assert [x.shape for x in seen[1:3]] == [(1, 16), (1, 16)]
    # A fresh client gets the full copy.
    got, _ = run(srv, small, UbClientCache(tmp_path / "client2"))
    assert got.tolist() == [0, 1, 2]


def test_server_sees_only_random_points(tmp_path):
    srv = UbServer.create(tmp_path / "s", [b"a", b"b"])
    seen = []

    def body(party):
        if party.name == "S":
            ch = party.channel("C")
            f = ch.recv_array
            ch.recv_array = lambda: seen.append(f()) or seen[-1]
            srv.serve(party, "C")
            return None
        return ub_client(party, "S", [b"a", b"q"], UbClientCache(tmp_path / "c"))
    out = run_parties(body, names=["S", "C"])[1]
    assert out.tolist() == [0]
    query = seen[-1]
    assert query.shape == (2, 32)
    assert len({bytes(r) for r in query}) == 2
    # fresh blinding: the same key queried again gives a different point


def test_empty_client(tmp_path):
    srv = UbServer.create(tmp_path / "s", [b"a"])
    got, _ = run(srv, [], UbClientCache(tmp_path / "c"))
    assert got.tolist() == []


def test_key_file_is_private_even_if_it_existed_wider(tmp_path):
    # the attack: a key file left world-readable (or pre-created by another local user's
    # tooling) kept its mode when the server wrote its OPRF key into it
    key_file = tmp_path / "oprf.key"
    key_file.write_bytes(b"old")
    os.chmod(key_file, 0o644)
    srv = UbServer.create(tmp_path / "srv", [b"a", b"b"], key_file=key_file)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32
    again = UbServer.open(tmp_path / "srv", key_file=key_file)
    assert again.tags.tobytes() == srv.tags.tobytes()
