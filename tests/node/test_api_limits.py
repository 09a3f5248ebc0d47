"""REST API request-body limits, attacked over a real socket: the node answers 401/413 to a
huge body before receiving it (a client without a token must not make the node read 200 MB),
and the refusal is audited like any other."""

import json
import socket
from urllib.parse import urlparse

import httpx
import pytest

from yinji.node.api import create_app
from yinji.node.identity import init_node
from yinji.node.node import Node
from yinji.testing.servers import serve

HUGE = 200_000_000  # announced; the test sends at most SENT bytes of it
SENT = 256 << 10


@pytest.fixture
def node(tmp_path):
    init_node(tmp_path / "n", "securities")
    (tmp_path / "n" / "data").mkdir(exist_ok=True)
    (tmp_path / "n" / "data" / "data.csv").write_text(
        "customer_id,segment,assets_cny\nG1,retail,10.5\n")
    n = Node(tmp_path / "n")
    yield n
    n.store.close()


@pytest.fixture
def url(node):
    with serve(create_app(node)) as base:
        yield base


def attack(url, headers, body_chunks):
    """Send a request head and as much of the body as the server takes, then read the reply.

    Returns (status line, bytes of body sent). The server must answer on its own: the body
    is never completed, so a server that waits for it times the test out.
    """
    u = urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        s.sendall(f"POST /jobs HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode())
        sent = 0
        for chunk in body_chunks:
            try:
                s.sendall(chunk)
            except OSError:  # the server answered and closed: stop feeding it
                break
            sent += len(chunk)
        reply = b""
        while b"\r\n\r\n" not in reply:
            got = s.recv(65536)  # raises TimeoutError if the server waits for the body
            if not got:
                break
            reply += got
    return reply.split(b"\r\n", 1)[0].decode(), sent


def calls(node):
    return [(e["data"]["status"], e["data"]["principal"]) for e in node.audit.entries()
            if e["kind"] == "api.call"]


def test_huge_body_without_token_is_refused_before_it_is_read(url, node):
    status, sent = attack(url, {"Content-Type": "application/json",
                                "Content-Length": str(HUGE)}, [b" " * SENT])
    assert status == "HTTP/1.1 401 Unauthorized" and sent <= SENT < HUGE
    assert calls(node) == [(401, "")]


def test_huge_body_with_unknown_token_is_refused(url, node):
    status, _ = attack(url, {"Authorization": "Bearer nope", "Content-Length": str(HUGE)},
                       [b" " * SENT])
    assert status == "HTTP/1.1 401 Unauthorized"


def test_huge_body_with_a_valid_token_is_refused_with_413(url, node):
    token = node.add_token("ops", "operator")
    status, _ = attack(url, {"Authorization": f"Bearer {token}",
                             "Content-Length": str(HUGE)}, [b" " * SENT])
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert calls(node) == [(413, "ops")]


def chunked(total, size=16 << 10):
    """A chunked body of `total` bytes in `size`-byte chunks, never terminated."""
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + b" " * size + b"\r\n"


def test_chunked_body_without_token_is_cut_at_the_anonymous_limit(url, node):
    status, _ = attack(url, {"Transfer-Encoding": "chunked"}, chunked(SENT))
    assert status == "HTTP/1.1 401 Unauthorized"
    assert calls(node) == [(401, "")]


def test_bodies_within_the_limits_still_work(url, node):
    from yinji.node.api.limits import MAX_BODY

    token = node.add_token("ops", "operator")
    dataset = {"id": "customers", "kind": "csv", "location": "data/data.csv",
               "schema": {"customer_id": "string"}, "policy": []}
    data = json.dumps(dataset).encode()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    r = httpx.post(f"{url}/datasets", headers=auth, content=iter([data[:10], data[10:]]))
    assert r.status_code == 201, r.text  # chunked, read and replayed to the route
    r = httpx.post(f"{url}/datasets", json=dataset)
    assert r.status_code == 401  # small body without a token: the route's own refusal
    r = httpx.post(f"{url}/jobs", headers=auth, content=b" " * (MAX_BODY + 1))
    assert r.status_code == 413
