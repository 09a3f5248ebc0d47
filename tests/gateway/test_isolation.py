"""Attack: a second caller reuses another caller's conversation id to get its values back."""

from __future__ import annotations

import json

import httpx
import pytest
from cryptography.exceptions import InvalidTag

from yinji.crypto.aead import Aead
from yinji.gateway.audit import MemoryAuditSink
from yinji.gateway.config import GatewayConfig
from yinji.gateway.proxy import create_app
from yinji.testing.servers import serve

SECRET = "客户张伟，手机13800138000，邮箱zhangwei@163.com"
VALUES = ("张伟", "13800138000", "zhangwei@163.com")
# What B sends: A's placeholders, so that an echo restored from A's vault would show A's values.
PROBE = "请复述：[PERSON_1] [MOBILE_1] [EMAIL_1]"


def post(url: str, content: str, headers: dict[str, str], stream: bool = False) -> httpx.Response:
    body = {"model": "fake-model", "stream": stream,
            "messages": [{"role": "user", "content": content}]}
    return httpx.post(url + "/v1/chat/completions", json=body, headers=headers, timeout=15)


def answer_text(r: httpx.Response) -> str:
    if not r.headers["content-type"].startswith("text/event-stream"):
        return r.text
    out = []
    for block in r.text.split("\n\n"):
        if block.startswith("data: {"):
            out += [c["delta"].get("content") or "" for c in json.loads(block[6:])["choices"]]
    return "".join(out)


@pytest.fixture()
def two_users(upstream):
    cfg = GatewayConfig(upstream_url=upstream.url + "/v1", vault_key=bytes(range(32)),
                        client_tokens={"tok-alice": "alice", "tok-bob": "bob"})
    audit = MemoryAuditSink()
    app = create_app(cfg, audit=audit)
    with serve(app) as url:
        yield url, app, audit


def test_other_user_same_conversation_gets_nothing_restored(upstream, two_users):
    url, _, _ = two_users
    alice = {"Authorization": "Bearer tok-alice", "X-Yinji-Conversation": "c1"}
    bob = {"Authorization": "Bearer tok-bob", "X-Yinji-Conversation": "c1"}
    assert post(url, SECRET, alice).json()["choices"][0]["message"]["content"] == "Echo: " + SECRET
    assert upstream.received[-1]["messages"][0]["content"] == \
        "客户[PERSON_1]，手机[MOBILE_1]，邮箱[EMAIL_1]"
    for stream in (False, True):
        r = post(url, PROBE, bob, stream)
        assert r.status_code == 200
        got = answer_text(r)
        assert not [v for v in VALUES if v in got], got  # bob received alice's values
        assert "[PERSON_1]" in got
    # Alice's own conversation still restores her values.
    r = post(url, PROBE, alice)
    assert r.json()["choices"][0]["message"]["content"] == "Echo: 请复述：张伟 13800138000 " \
        "zhangwei@163.com"


def test_other_users_key_cannot_open_the_vault(two_users):
    from yinji.gateway.vault import scope_key  # here, so the HTTP attacks run on old code too

    url, app, _ = two_users
    alice = {"Authorization": "Bearer tok-alice", "X-Yinji-Conversation": "c1"}
    post(url, SECRET, alice)
    vault = app.state.gateway.vaults.get("alice", "c1")
    sealed = vault._by_token["[PERSON_1]"]
    assert isinstance(sealed, bytes) and "张伟".encode() not in sealed
    with pytest.raises(InvalidTag):  # the same conversation id under bob's name
        Aead(scope_key(bytes(range(32)), "bob", "c1")).open(sealed, b"[PERSON_1]")
    assert Aead(scope_key(bytes(range(32)), "alice", "c1")).open(sealed, b"[PERSON_1]") \
        == "张伟".encode()


def test_unauthenticated_conversation_is_refused(upstream, gateway):
    """Without client tokens anyone can claim any X-Yinji-User: no conversation vaults."""
    url, _, audit = gateway
    a = post(url, SECRET, {"X-Yinji-User": "alice", "X-Yinji-Conversation": "c1"})
    b = post(url, PROBE, {"X-Yinji-User": "alice", "X-Yinji-Conversation": "c1"})
    assert not [v for v in VALUES if v in b.text], b.text
    assert (a.status_code, b.status_code) == (401, 401)
    assert "X-Yinji-Conversation" in b.json()["error"]["message"]
    assert upstream.received == []
    assert [e.status for e in audit.events] == [401, 401]
    # Without a conversation id each request has its own vault: nothing carries over.
    assert post(url, SECRET, {}).status_code == 200
    assert not [v for v in VALUES if v in answer_text(post(url, PROBE, {}))]
