"""Context cues: words near a candidate that raise or lower our belief in it."""

from __future__ import annotations

import re


def before(text: str, start: int, width: int = 14) -> str:
    return text[max(0, start - width):start]


def after(text: str, end: int, width: int = 8) -> str:
    return text[end:end + width]


def has(pattern: re.Pattern[str], s: str) -> bool:
    return pattern.search(s) is not None


def cue(words: str) -> re.Pattern[str]:
    """A case-insensitive alternation of `|`-separated cue words."""
    return re.compile("(?:" + words + ")", re.IGNORECASE)
