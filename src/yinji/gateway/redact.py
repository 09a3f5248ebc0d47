"""Apply a policy to text (pseudonymise / mask / block) and restore placeholders in answers.

`StreamRestorer` handles answers that arrive in pieces (SSE): a placeholder such as
"[PERSON_1]" can be split as "[PER" + "SON_1]", so the restorer holds back the longest tail of
what it has seen that could still become a known token, and releases it when the next piece
decides the matter (or at the end of the stream).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from yinji.gateway.detectors.base import Detection
from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.policy import Action, Policy
from yinji.gateway.surrogates import surrogate
from yinji.gateway.vault import LABELS, Vault


@dataclass
class Redaction:
    text: str
    counts: Counter[str] = field(default_factory=Counter)  # category -> spans replaced
    blocked: set[str] = field(default_factory=set)  # categories whose policy is `block`


def apply_policy(text: str, engine: DetectorEngine, policy: Policy, vault: Vault,
                 context: str = "", memo: dict[str, list[Detection]] | None = None) -> Redaction:
    """Replace every detected span per `policy`; report counts and blocked categories.

    `context` (e.g. "资金账号: " for a JSON field of that name) is read by the detectors as the
    text just before `text`, so cue words outside the value count; it is not part of the output.
    `memo` keeps detections of texts seen before (one request repeats "type: string" a lot).
    """
    full = context + text
    spans = memo.get(full) if memo is not None else None
    if spans is None:
        spans = engine.detect(full, policy.min_confidence)
        if memo is not None:
            memo[full] = spans
    out: list[str] = []
    pos = 0
    red = Redaction(text)
    for d in _shift(spans, len(context)):
        act = policy.action(d.category)
        if act is Action.ALLOW:
            continue
        if act is Action.BLOCK:
            red.blocked.add(d.category)
            red.counts[d.category] += 1
            continue
        out.append(text[pos:d.start])
        if act is Action.MASK:
            out.append(f"[{LABELS.get(d.category, d.category.upper())}]")
        else:
            out.append(vault.token_for(d.category, text[d.start:d.end],
                                       surrogate if policy.surrogates else None))
        red.counts[d.category] += 1
        pos = d.end
    out.append(text[pos:])
    red.text = "".join(out)
    return red


def _shift(spans: list[Detection], n: int) -> list[Detection]:
    """Spans moved back by `n` characters of context; parts inside the context are dropped."""
    if not n:
        return spans
    return [dataclasses.replace(d, start=max(d.start, n) - n, end=d.end - n)
            for d in spans if d.end > n]


def _token_regex(tokens: list[str]) -> re.Pattern[str] | None:
    if not tokens:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))


def json_escape(value: str) -> str:
    """`value` as it must appear inside a JSON string (tool-call arguments are JSON text)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def restore(text: str, vault: Vault, escape: Callable[[str], str] | None = None) -> str:
    """Put the real values back for every token of `vault` found in `text`.

    `escape` encodes each value for its place, e.g. `json_escape` inside tool-call arguments.
    """
    rx = _token_regex(vault.tokens())
    if rx is None or not text:
        return text

    def value(m: re.Match[str]) -> str:
        v = vault.value_of(m.group())
        return m.group() if v is None else escape(v) if escape else v

    return rx.sub(value, text)


class StreamRestorer:
    """Restores tokens across chunk boundaries for one stream (one choice of one answer)."""

    def __init__(self, vault: Vault, escape: Callable[[str], str] | None = None) -> None:
        self._vault = vault
        self._escape = escape
        tokens = vault.tokens()
        self._rx = _token_regex(tokens)
        self._prefixes = {t[:k] for t in tokens for k in range(1, len(t))}
        self._max = max((len(t) for t in tokens), default=0)
        self._pending = ""

    def feed(self, piece: str) -> str:
        """Text that is safe to emit now (restored); a possible token prefix is held back."""
        buf = self._pending + piece
        if self._rx is None:
            return buf
        hold = 0
        for k in range(min(len(buf), self._max - 1), 0, -1):
            if buf[-k:] in self._prefixes:
                hold = k
                break
        ready, self._pending = buf[:len(buf) - hold], buf[len(buf) - hold:]
        return restore(ready, self._vault, self._escape)

    def flush(self) -> str:
        """Whatever is still held back, at the end of the stream."""
        rest, self._pending = self._pending, ""
        return restore(rest, self._vault, self._escape)
