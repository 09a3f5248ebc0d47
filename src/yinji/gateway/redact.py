"""Apply a policy to text (pseudonymise / mask / block) and restore placeholders in answers.

`StreamRestorer` handles answers that arrive in pieces (SSE): a placeholder such as
"[PERSON_1]" can be split as "[PER" + "SON_1]", so the restorer holds back the longest tail of
what it has seen that could still become a known token, and releases it when the next piece
decides the matter (or at the end of the stream).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.policy import Action, Policy
from yinji.gateway.surrogates import surrogate
from yinji.gateway.vault import LABELS, Vault


@dataclass
class Redaction:
    text: str
    counts: Counter[str] = field(default_factory=Counter)  # category -> spans replaced
    blocked: set[str] = field(default_factory=set)  # categories whose policy is `block`


def apply_policy(text: str, engine: DetectorEngine, policy: Policy, vault: Vault) -> Redaction:
    """Replace every detected span per `policy`; report counts and blocked categories."""
    spans = engine.detect(text, policy.min_confidence)
    out: list[str] = []
    pos = 0
    red = Redaction(text)
    for d in spans:
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


def _token_regex(tokens: list[str]) -> re.Pattern[str] | None:
    if not tokens:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))


def restore(text: str, vault: Vault) -> str:
    """Put the real values back for every token of `vault` found in `text`."""
    rx = _token_regex(vault.tokens())
    if rx is None or not text:
        return text
    return rx.sub(lambda m: vault.value_of(m.group()) or m.group(), text)


class StreamRestorer:
    """Restores tokens across chunk boundaries for one stream (one choice of one answer)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
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
        return restore(ready, self._vault)

    def flush(self) -> str:
        """Whatever is still held back, at the end of the stream."""
        rest, self._pending = self._pending, ""
        return restore(rest, self._vault)
