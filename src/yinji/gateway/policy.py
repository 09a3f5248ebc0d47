"""Per-category policy: what to do with each kind of personal data found in a request.

Actions: `pseudonymise` (reversible placeholder, restored in the answer), `mask` (irreversible
category tag), `block` (refuse the whole request), `allow` (leave as is). Routes pick a policy by
model name so, e.g., an internal model can be allowed more than an external one. Images, audio
and files cannot be scanned, so a request carrying them is refused unless `media` is on.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from yinji.gateway.detectors.base import CATEGORIES


class Action(StrEnum):
    ALLOW = "allow"
    MASK = "mask"
    PSEUDONYMISE = "pseudonymise"
    BLOCK = "block"


def _default_actions() -> dict[str, Action]:
    return {c: Action.PSEUDONYMISE for c in CATEGORIES}


@dataclass
class Policy:
    """`actions` per category; spans below `min_confidence` are ignored."""

    actions: dict[str, Action] = field(default_factory=_default_actions)
    min_confidence: float = 0.5
    surrogates: bool = False  # realistic fake values instead of [PERSON_1]-style placeholders
    amounts_with_person: bool = False  # also treat amounts in a sentence naming a person
    media: bool = False  # forward images, audio and files, which the detectors cannot read

    def action(self, category: str) -> Action:
        return self.actions.get(category, Action.PSEUDONYMISE)

    @classmethod
    def from_dict(cls, d: dict[str, Any], base: Policy | None = None) -> Policy:
        base = base or cls()
        actions = dict(base.actions)
        for cat, act in (d.get("actions") or {}).items():
            if cat not in CATEGORIES:
                raise ValueError(f"unknown category {cat!r}; known: {', '.join(CATEGORIES)}")
            actions[cat] = Action(act)
        return cls(
            actions=actions,
            min_confidence=float(d.get("min_confidence", base.min_confidence)),
            surrogates=bool(d.get("surrogates", base.surrogates)),
            amounts_with_person=bool(d.get("amounts_with_person", base.amounts_with_person)),
            media=bool(d.get("media", base.media)),
        )


@dataclass
class Route:
    """Requests whose model matches the glob `model` use `policy`."""

    model: str
    policy: Policy


def policy_for(model: str, routes: list[Route], default: Policy) -> tuple[str, Policy]:
    """The first route whose glob matches `model`, else the default; returns (route name, policy)."""
    for r in routes:
        if fnmatch.fnmatchcase(model, r.model):
            return r.model, r.policy
    return "default", default
