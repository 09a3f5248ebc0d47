"""Every string of a chat request that the upstream will see, found and redacted in one walk.

Why one walker: personal data hides in more places than message contents: a participant's
`name`, the JSON arguments of earlier tool calls, tool results (role=tool), the descriptions,
enums and examples of tool definitions, `stop`, `metadata`, fields we have never heard of. The
rule is therefore "every forwarded string is scanned", with few exceptions: a message's `role`
and a message part's `type` (protocol words), the model name (checked, never rewritten) and,
when a route allows media, the base64 payload of images, audio and files.

JSON text (tool-call arguments, tool results) is parsed and each string, integer and key in it
is scanned with its field name as context, so \\u-escaped values, numbers such as
{"mobile": 13800138000} and cue words in keys ("资金账号") are all seen; it is forwarded
re-encoded as compact JSON. A participant `name` is a person's name by definition, so its whole
value is replaced (as PERSON_n: names must stay identifier-like), whether the detectors
recognise it or not.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from yinji.gateway.detectors.base import PERSON, Detection
from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.policy import Action, Policy
from yinji.gateway.redact import Redaction, apply_policy
from yinji.gateway.surrogates import surrogate
from yinji.gateway.vault import Vault

PROTOCOL_KEYS = frozenset({"role", "type"})  # of a message or part: protocol words, not data
PARTICIPANT_ROLES = frozenset({"system", "developer", "user", "assistant"})
TEXT_PARTS = frozenset({"text", "input_text", "output_text", "refusal"})
_MEDIA_PAYLOAD_KEYS = frozenset({"data", "file_data"})
_NAME_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def media_parts(body: dict[str, Any]) -> list[str]:
    """Where the request has content parts other than text, e.g. ["messages[1].content[0]"]."""
    out = []
    for i, m in enumerate(body.get("messages") or []):
        c = m.get("content") if isinstance(m, dict) else None
        for j, part in enumerate(c if isinstance(c, list) else []):
            if isinstance(part, dict) and part.get("type", "text") not in TEXT_PARTS:
                out.append(f"messages[{i}].content[{j}] ({part.get('type')})")
    return out


class RequestRedactor:
    """Applies one route's policy with one vault to a whole request; counts what it replaced."""

    def __init__(self, engine: DetectorEngine, policy: Policy, vault: Vault) -> None:
        self.engine, self.policy, self.vault = engine, policy, vault
        self.counts: Counter[str] = Counter()
        self.blocked: set[str] = set()
        self._memo: dict[str, list[Detection]] = {}  # this request's texts only, then dropped

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body to forward: a new dict, every string in it redacted (`user` is dropped)."""
        out: dict[str, Any] = {}
        for k, v in body.items():
            if k == "user":
                continue  # the end user's id stays inside
            if k == "model":
                out[k] = v
            elif k == "messages" and isinstance(v, list):
                out[k] = [self.message(m) for m in v]
            elif k in ("tools", "functions") and isinstance(v, list):
                out[k] = [self.tree(t, data=True) for t in v]
            else:
                out[k] = self.tree(v, k)
        return out

    def message(self, m: Any) -> Any:
        if not isinstance(m, dict):
            return self.tree(m)
        role = m.get("role")
        result = role in ("tool", "function")
        out: dict[str, Any] = {}
        for k, v in m.items():
            if k in PROTOCOL_KEYS:
                out[k] = v
            elif k == "content" and isinstance(v, str):
                out[k] = self.json_text(v) if result else self.text(v)
            elif k == "content" and isinstance(v, list):
                out[k] = [self.part(p, result) for p in v]
            elif k == "name" and isinstance(v, str) and role in PARTICIPANT_ROLES:
                out[k] = self.participant(v)
            elif k in ("tool_calls", "function_call"):
                out[k] = self.calls(v)
            else:
                out[k] = self.tree(v, k)
        return out

    def part(self, p: Any, result: bool) -> Any:
        if not isinstance(p, dict):
            return self.tree(p)
        if p.get("type", "text") not in TEXT_PARTS:  # media, only reached if the route allows it
            return {k: v if k in PROTOCOL_KEYS else self.media(v, k) for k, v in p.items()}
        return {k: v if k in PROTOCOL_KEYS else
                (self.json_text(v, k) if result and isinstance(v, str) else self.tree(v, k))
                for k, v in p.items()}

    def calls(self, v: Any) -> Any:
        """tool_calls (a list) or function_call (one): arguments are JSON text."""
        if isinstance(v, list):
            return [self.calls(c) for c in v]
        if not isinstance(v, dict):
            return self.tree(v)
        out = {}
        for k, x in v.items():
            if k == "arguments" and isinstance(x, str):
                out[k] = self.json_text(x)
            elif isinstance(x, dict):
                out[k] = self.calls(x)  # {"function": {"name", "arguments"}}
            else:
                out[k] = x if k in PROTOCOL_KEYS else self.tree(x, k)
        return out

    def participant(self, name: str) -> str:
        """A message's `name`: the whole value is a person's name."""
        red = self._apply(name, "")
        act = self.policy.action(PERSON)
        if act is Action.ALLOW or red.blocked:
            return red.text  # allowed, or refused anyway
        if not red.counts:
            self.counts[PERSON] += 1  # not recognised: it is a name all the same
        if act is Action.BLOCK:
            self.blocked.add(PERSON)
            return red.text
        if act is Action.MASK:
            return "PERSON"
        token = self.vault.token_for(PERSON, name, surrogate if self.policy.surrogates else None)
        return _NAME_SAFE.sub("", token) or "PERSON"

    def json_text(self, s: str, key: str = "") -> str:
        try:
            obj = json.loads(s)
        except ValueError:
            return self.text(s, key)
        if isinstance(obj, dict | list):
            return json.dumps(self.tree(obj, key, data=True), ensure_ascii=False)
        if isinstance(obj, str):
            return json.dumps(self.text(obj, key), ensure_ascii=False)
        return self.text(s, key)

    def tree(self, obj: Any, key: str = "", data: bool = False) -> Any:
        """`obj` with every string redacted; `data`: keys and integers too (JSON data)."""
        if isinstance(obj, str):
            return self.text(obj, key)
        if isinstance(obj, list):
            return [self.tree(v, key, data) for v in obj]
        if isinstance(obj, dict):
            return {(self.text(k) if data else k): self.tree(v, k, data) for k, v in obj.items()}
        if data and isinstance(obj, int) and not isinstance(obj, bool):
            red = self.text(str(obj), key)
            return obj if red == str(obj) else red
        return obj

    def media(self, v: Any, key: str) -> Any:
        if key in _MEDIA_PAYLOAD_KEYS or (isinstance(v, str) and v.startswith("data:")):
            return v
        if isinstance(v, dict):
            return {k: x if k in PROTOCOL_KEYS else self.media(x, k) for k, x in v.items()}
        return self.tree(v, key)

    def text(self, s: str, key: str = "") -> str:
        return self._apply(s, f"{key}: " if key else "").text

    def _apply(self, s: str, context: str) -> Redaction:
        if not s.strip():
            return Redaction(s)
        red = apply_policy(s, self.engine, self.policy, self.vault, context, self._memo)
        self.counts.update(red.counts)
        self.blocked |= red.blocked
        return red
