"""Attacks on a member's PIR service by a client with a valid group certificate (and one
without): oversized headers and parts, hostile array shapes. The member must refuse them
from the frame header, before receiving the payload, close the connection and audit it."""

from __future__ import annotations

import json
import socket
import struct
import time

import pytest

from yinji.net.connect import dial
from yinji.net.framing import encode_bytes
from yinji.pir.client import PirClient
from yinji.pir.keyword import KeywordDatabase
from yinji.pir.server import PirServer
from yinji.pir.service import PirService, connect_member
from yinji.pir.wire import MAX_HEADER_BYTES
from yinji.testing.sockets import closed_by_peer, soon
from yinji.testing.tls import make_tls_configs

pytestmark = pytest.mark.timeout(60)

RECORDS = [(f"ID{i:05d}", b"listed") for i in range(200)]


def frame_header(kind=0, code=0, ndim=0, length=0, dims=()):
    return struct.pack("<4sBBBBQ", b"YJNF", 1, kind, code, ndim, length) + struct.pack(
        f"<{len(dims)}Q", *dims)


def pir_header(op, parts):
    return b"".join(map(bytes, encode_bytes(json.dumps({"op": op, "id": 1,
                                                         "parts": parts}).encode())))


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    return make_tls_configs(["member", "officer"], tmp_path_factory.mktemp("pki"))


@pytest.fixture
def member(configs):
    events, refused = [], []
    server = PirServer.from_database(KeywordDatabase(RECORDS, label_size=16), name="member",
                                     audit=events.append)
    svc = PirService(server, ("127.0.0.1", 0), configs["member"], on_refused=refused.append)
    svc.start()
    svc.events, svc.refused = events, refused
    yield svc
    svc.close()


def officer(configs, svc):
    cfg = configs["officer"]
    return dial("officer", "member", svc.address, cfg, cfg.context(server=False),
                time.monotonic() + 5)


def malformed(svc):
    return [(e.client, e.kind, e.status) for e in svc.events if e.status == "malformed"]


@pytest.mark.parametrize("announced", [MAX_HEADER_BYTES + 1, 100 << 10, 1 << 30])
def test_oversized_header_is_refused_before_its_payload(configs, member, announced):
    s = officer(configs, member)
    s.sendall(frame_header(length=announced))  # the header of a header; no payload follows
    assert closed_by_peer(s), "the member waited for the payload"
    s.close()
    assert soon(lambda: malformed(member))
    assert malformed(member) == [("officer", "frame", "malformed")]


def test_oversized_part_is_refused_before_its_payload(configs, member):
    s = officer(configs, member)
    limit = member.server.request_limit()
    s.sendall(pir_header("oprf", ["bytes"]) + frame_header(length=limit + 1))
    assert closed_by_peer(s)
    s.close()
    assert soon(lambda: malformed(member))


def test_too_many_parts_are_refused(configs, member):
    s = officer(configs, member)
    s.sendall(pir_header("oprf", ["bytes"] * 1000))
    assert closed_by_peer(s)
    s.close()
    assert soon(lambda: malformed(member))


def test_hostile_shape_from_a_client_is_refused_and_audited(configs, member):
    s = officer(configs, member)
    s.sendall(pir_header("query", ["array"]) +
              frame_header(kind=1, code=6, ndim=2, length=0, dims=(2**63, 0)))
    assert closed_by_peer(s)
    s.close()
    assert soon(lambda: malformed(member))
    assert malformed(member) == [("officer", "frame", "malformed")]


def test_hostile_shape_as_hello_is_refused_and_reported(configs, member):
    raw = socket.create_connection(member.address, timeout=5)
    s = configs["officer"].context(server=False).wrap_socket(raw)
    s.sendall(frame_header(kind=1, code=2, ndim=2, length=0, dims=(2**64 - 1, 0)))
    assert closed_by_peer(s)
    s.close()
    assert soon(lambda: member.refused)
    assert "shape" in member.refused[0], member.refused


def test_honest_client_is_served_after_the_attacks(configs, member):
    s = officer(configs, member)
    s.sendall(frame_header(length=1 << 30))
    assert closed_by_peer(s)
    s.close()
    c = PirClient(connect_member("officer", "member", member.address, configs["officer"]))
    assert c.query(["ID00007", "absent"]) == [b"listed", None]
    c.close()
