from __future__ import annotations

import json

import pytest

from yinji.crypto.aead import Aead, fresh_key
from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.policy import Action, Policy
from yinji.gateway.redact import StreamRestorer, apply_policy, json_escape, restore
from yinji.gateway.vault import Vault, VaultStore


def test_consistent_placeholders_and_restore():
    vault = VaultStore(key=fresh_key()).new()
    text = "客户张伟致电，张伟的手机13800138000。Client John Smith, cc John Smith."
    red = apply_policy(text, DetectorEngine(), Policy(), vault)
    assert "张伟" not in red.text and "13800138000" not in red.text and "John" not in red.text
    assert red.text.count("[PERSON_1]") == 2 and red.text.count("[PERSON_2]") == 2
    assert restore(red.text, vault) == text


def test_vault_encrypted_at_rest():
    vault = Vault(aead=Aead(fresh_key()))
    tok = vault.token_for("person", "王芳")
    assert vault.value_of(tok) == "王芳"
    assert all("王芳" not in repr(v) for v in vault._by_token.values())
    assert all("王芳" not in repr(k) for k in vault._by_value)


def test_vault_expiry():
    now = [0.0]
    store = VaultStore(ttl=10, clock=lambda: now[0])
    store.get("u", "c1").token_for("person", "李明")
    now[0] = 5
    assert len(store.get("u", "c1")) == 1
    now[0] = 100
    assert len(store) == 0 and len(store.get("u", "c1")) == 0


def test_mask_and_block():
    vault = Vault()
    pol = Policy(actions={**Policy().actions, "mobile": Action.MASK, "id_number": Action.BLOCK})
    red = apply_policy("手机13800138000", DetectorEngine(), pol, vault)
    assert red.text == "手机[MOBILE]" and len(vault) == 0
    red = apply_policy("身份证11010519491231002X", DetectorEngine(), pol, vault)
    assert red.blocked == {"id_number"}


def test_surrogates_are_realistic_and_restorable():
    vault = Vault()
    text = "客户张伟，手机13800138000"
    red = apply_policy(text, DetectorEngine(), Policy(surrogates=True), vault)
    assert "[" not in red.text and "张伟" not in red.text and "13800138000" not in red.text
    assert restore(red.text, vault) == text


def test_stream_restorer_every_split():
    vault = Vault()
    a, b = vault.token_for("person", "张伟"), vault.token_for("email", "zw@163.com")
    answer = f"好的，{a}的邮箱是{b}，{a}[x]"
    expected = "好的，张伟的邮箱是zw@163.com，张伟[x]"
    for size in range(1, len(answer) + 1):
        r = StreamRestorer(vault)
        out = "".join(r.feed(answer[i:i + size]) for i in range(0, len(answer), size)) + r.flush()
        assert out == expected, size


def test_values_restored_into_json_are_escaped():
    """Tool-call arguments are JSON text: a restored quote or backslash must not break it."""
    vault = Vault()
    tok = vault.token_for("account", 'AC"12\\3')
    args = '{"account": "' + tok + '", "n": 1}'
    assert json.loads(restore(args, vault, json_escape)) == {"account": 'AC"12\\3', "n": 1}
    r = StreamRestorer(vault, json_escape)
    out = "".join(r.feed(args[i:i + 2]) for i in range(0, len(args), 2)) + r.flush()
    assert json.loads(out)["account"] == 'AC"12\\3'


@pytest.mark.parametrize("profile", ["international", "sm"])
def test_scopes_have_their_own_keys_under_each_profile(profile):
    from cryptography.exceptions import InvalidTag

    from yinji.gateway.vault import scope_key

    master = fresh_key()
    store = VaultStore(key=master, profile=profile)
    tok = store.get("alice", "c1").token_for("person", "王芳")
    sealed = store.get("alice", "c1")._by_token[tok]
    assert Aead(scope_key(master, "alice", "c1", profile), profile).open(sealed, tok.encode()) \
        == "王芳".encode()
    for caller, conv in (("bob", "c1"), ("alice", "c2"), ("alicec", "1")):
        with pytest.raises(InvalidTag):
            Aead(scope_key(master, caller, conv, profile), profile).open(sealed, tok.encode())
        assert len(store.get(caller, conv)) == 0
    with pytest.raises(ValueError, match="caller"):
        store.get("", "c1")
