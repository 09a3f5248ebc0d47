"""A character-level CRF that tags Chinese person names: a statistical opinion for names_zh.

Why: the rules judge one candidate at a time from hand-set weights; a linear-chain CRF weighs
the same evidence (surname lists, label cues before, titles after, neighbouring characters and
bigrams, character classes, whether a character starts or ends an ordinary jieba word, a long
digit run right before or after it, and how often the character and its neighbours are
given-name characters of the persons jieba's dictionary lists) from data and reads the whole
line, so it knows where a name ends (three characters, not two) and that 申请人 introduces a
name rather than being one. Labels: B (first character), I, O.

Training (deterministic: same arguments, same file; round 8, issue #16):
    PYTHONPATH=src python tools/train_name_crf.py --n 20000 --iterations 100 \
        --dev fresh4,fresh5,fresh6,fresh7,fresh8 --dev-n 3000
on yinji.testing.name_train (own surname/given-name/template lists plus hard negatives drawn
from jieba's dictionary; since round 8 also rare surnames and whole-word names such as 方志 in
person frames) and 3,000 rows of each development set's generator (gateway_eval3 ..
gateway_eval7, drawn with seed 7001, never the scored seeds 0-5), read as the detector reads
them (simplified, OCR gaps removed). Leave-one-set-out runs (tools/name_loso.py: trained on
name_train and three sets, scored on the fourth) chose this in round 7 (every held-out set
gained over a name_train-only model) and round 8 (docs/gateway.md, "Round 8"). A rare surname
(lexicon.RARE_SURNAMES) is a feature of its own. The model is CRFsuite's own binary format
(python-crfsuite; no pickle, no download), under 1 MB, and its SHA-256 is checked on load. Leakage is that of the name detector
(names_zh): this module only reads the text it is given, locally.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources

from yinji.gateway.detectors import lexicon as lx

MODEL_FILE = "names_zh.crfsuite"
# SHA-256 of the shipped model (tools/train_name_crf.py prints it); checked on load.
MODEL_SHA256 = "33d27bf31c61a521188e380c666f8b954d1ad7cdcf811ffc41dea8491faad933"

_CUES = frozenset(w for w in lx.PRE_CUES + lx.ROLE_WORDS if len(w) > 1)
_CUE_MAX = max(len(w) for w in _CUES)
_TITLES = frozenset(lx.TITLES)
_ROLES = frozenset(lx.ROLE_WORDS)
_ROLE_MAX = max(len(w) for w in _ROLES)
_SKIP = frozenset(" \t:：“”「」『』\"'（(【为是")  # between a label and its name


@lru_cache(maxsize=1)
def _given_counts() -> dict[str, int]:
    """How often each character is a given-name character of a person jieba's dictionary lists
    (2-4 character nr words that start with a listed surname): a prior that a character reads
    as part of a given name (伟, 芳, 欣) or rarely does (的, 司, 额), learnt from no dev set."""
    import jieba.posseg

    counts: dict[str, int] = {}
    for w, t in jieba.posseg.dt.word_tag_tab.items():
        if t != "nr" or not 2 <= len(w) <= 4:
            continue
        sl = lx.surname_length(w)
        if sl and len(w) - sl in (1, 2):
            for c in w[sl:]:
                counts[c] = counts.get(c, 0) + 1
    return counts


def given_count(ch: str) -> int:
    """How often `ch` is a given-name character of jieba's listed persons (_given_counts)."""
    return _given_counts().get(ch, 0)


# A given-name character at least this many of jieba's persons have (伟, 东, 琳, 勋; not 鸭, 北).
COMMON_GIVEN = 20


def common_given(ch: str) -> bool:
    """`ch` is a common given-name character (COMMON_GIVEN): a prior for name forms the rules
    accept without a cue (a person among companies, a Korean name with 在)."""
    return given_count(ch) >= COMMON_GIVEN


def _given_class(ch: str) -> str:
    n = _given_counts().get(ch, 0)
    return "g=0" if n == 0 else "g=1" if n < 10 else "g=2" if n < 50 else "g=3"


@lru_cache(maxsize=8192)
def _static(ch: str) -> tuple[str, ...]:
    """The features of a character that do not depend on its neighbours."""
    f = ["c=" + ch]
    if "\u4e00" <= ch <= "\u9fff":
        f.append("k=H")
        f.append(_given_class(ch))
        if ch in lx.SURNAMES:
            f.append("sur")
            if ch in lx.TOP_SURNAMES:
                f.append("top")
            if ch in lx.WEAK_SURNAMES:
                f.append("weak")
            if ch in lx.RARE_SURNAMES:
                f.append("rare")
        if ch in lx.NON_NAME_CHARS:
            f.append("nn")
    elif ch.isdigit():
        f.append("k=D")
    elif ch.isascii() and ch.isalpha():
        f.append("k=L")
    elif ch.isspace():
        f.append("k=S")
    else:
        f.append("k=P")
    return tuple(f)


def _kind(ch: str) -> str:
    return _static(ch)[1]


@lru_cache(maxsize=8192)
def _around(ch: str) -> tuple[str, ...]:
    """Features a character lends its neighbours (as p1, n1, p2, n2, pk, nk, and for a Han
    character its given-name class as pg, ng; "" otherwise)."""
    han = "\u4e00" <= ch <= "\u9fff"
    return ("p1=" + ch, "n1=" + ch, "p2=" + ch, "n2=" + ch, "pk=" + _kind(ch), "nk=" + _kind(ch),
            "p" + _given_class(ch) if han else "", "n" + _given_class(ch) if han else "")


def _alt(words) -> re.Pattern[str]:  # noqa: ANN001 - any iterable of words
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


_ROLE_RX = _alt(_ROLES)
# A label cue, then up to three characters that may sit between it and the name.
_LABEL_RX = re.compile("(?:" + _alt(_CUES).pattern + ")([" + re.escape("".join(_SKIP)) + "]{0,3})")
_TITLE_RX = re.compile("(?=(" + _alt(_TITLES).pattern + "))")
_DIGITS = re.compile(r"[0-9０-９]{4,}[Xx]?")
# The model reads a text line by line (sentences run on, lines rarely do), and only lines with
# a surname character (single or the first of a compound) in them.
_SEGMENT = re.compile(r"[^\n]+")
_SURNAME_RX = re.compile("[" + "".join(sorted(lx.SURNAMES | lx.WEAK_SURNAMES
                                              | {c[0] for c in lx.COMPOUND_SET})) + "]")


def features(text: str, words: frozenset[str] = frozenset()) -> list[list[str]]:
    """Per character: its own features, its neighbours', label/title/role context and whether
    it starts, ends or is inside a 2-3 character ordinary word of `words` (jieba's dictionary,
    zh_words._lexicon): a name rarely runs into a word (李明认|为, 方|案经)."""
    label = set()  # positions right after a label cue (or after what separates it from a name)
    for m in _LABEL_RX.finditer(text):
        label.update(range(m.start(1), m.end(1) + 1))
    role = set()
    for m in _ROLE_RX.finditer(text):
        role.update(range(m.start(), m.end()))
    # a title that starts a longer word (董事|会) is none
    title = {m.start() for m in _TITLE_RX.finditer(text)
             if not any(text[m.start():m.end(1) + k] in words for k in (1, 2))}
    # Long digit runs (mobiles, ID and account numbers): a name often sits right before or
    # after one (张伟13800138000, 110101199003071234王芳).
    digits = [m.span() for m in _DIGITS.finditer(text)]
    before = {s - 1 for s, _ in digits}
    after = {e for _, e in digits}
    out = []
    pad = "^^" + text + "$$"
    for i, ch in enumerate(text):
        a, b, c, d = pad[i], pad[i + 1], pad[i + 3], pad[i + 4]
        pb, nc = _around(b), _around(c)
        f = [*_static(ch), pb[0], nc[1], _around(a)[2], _around(d)[3], "b=" + b + ch,
             "b+=" + ch + c, pb[4], nc[5]]
        if pb[6]:
            f.append(pb[6])
        if nc[7]:
            f.append(nc[7])
        if b + ch in lx.COMPOUND_SET:
            f.append("cs1")
        if ch + c in lx.COMPOUND_SET:
            f.append("cs0")
        if words:
            if b + ch in words:
                f.append("w2-")
            if ch + c in words:
                f.append("w2+")
            if a + b + ch in words:
                f.append("w3-")
            if ch + c + d in words:
                f.append("w3+")
            if b + ch + c in words:
                f.append("w3m")
        if i in before:
            f.append("d+")
        if i in after:
            f.append("d-")
        if i in label:
            f.append("lab")
        if i in role:
            f.append("role")
        else:
            for k in (1, 2, 3):
                if i + k in title:
                    f.append(f"tit{k}")
        out.append(f)
    return out


# A model file other than the shipped one (tools and benchmarks only: use_model).
_OTHER: list[str] = []


def use_model(path: str | None) -> None:
    """Tag with the model file at `path` instead of the shipped one (None: the shipped one
    again). For training and evaluation tools (leave-one-set-out runs); not checked against
    MODEL_SHA256, so the gateway never calls it."""
    _OTHER[:] = [path] if path else []
    _tagger.cache_clear()


@lru_cache(maxsize=1)
def _tagger():  # noqa: ANN202 - pycrfsuite.Tagger
    import pycrfsuite

    if _OTHER:
        tagger = pycrfsuite.Tagger()
        tagger.open(_OTHER[0])
        return tagger
    data = resources.files("yinji.gateway.detectors").joinpath("data", MODEL_FILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise RuntimeError(f"name model {MODEL_FILE}: SHA-256 {digest} is not the shipped "
                           f"{MODEL_SHA256}; reinstall the package or retrain")
    tagger = pycrfsuite.Tagger()
    path = resources.files("yinji.gateway.detectors").joinpath("data", MODEL_FILE)
    with resources.as_file(path) as p:
        tagger.open(str(p))
    return tagger


def warm_up() -> None:
    _tagger()


def read(text: str, words: frozenset[str] = frozenset(), check: tuple[tuple[int, int], ...] = ()
         ) -> tuple[list[tuple[int, int, float]], list[float]]:
    """`spans(text)` and, for each (start, end) in `check`, the model's highest probability
    that one of its characters is part of a name (0 on lines the model does not read: those
    without a surname character)."""
    found: list[tuple[int, int, float]] = []
    most = [0.0] * len(check)
    for m in _SEGMENT.finditer(text):
        if not _SURNAME_RX.search(m.group()):
            continue
        found += [(s + m.start(), e + m.start(), p) for s, e, p in _tag(m.group(), words)]
        tagger = _tagger()
        for k, (s, e) in enumerate(check):
            if m.start() <= s and e <= m.end():
                most[k] = max(1.0 - tagger.marginal("O", i - m.start()) for i in range(s, e))
    return found, most


def spans(text: str, words: frozenset[str] = frozenset()) -> list[tuple[int, int, float]]:
    """Names the model finds: (start, end, probability), probability the smallest marginal of
    the span's labels (B then I…) and of the label after it not being I."""
    out = []
    for m in _SEGMENT.finditer(text):
        if _SURNAME_RX.search(m.group()):  # no surname character, no name: skip the line
            out += [(s + m.start(), e + m.start(), p) for s, e, p in _tag(m.group(), words)]
    return out


def _tag(text: str, words: frozenset[str]) -> list[tuple[int, int, float]]:
    tagger = _tagger()
    labels = tagger.tag(features(text, words))
    out = []
    i, n = 0, len(labels)
    while i < n:
        if labels[i] != "B":
            i += 1
            continue
        j = i + 1
        while j < n and labels[j] == "I":
            j += 1
        p = tagger.marginal("B", i)
        for k in range(i + 1, j):
            p = min(p, tagger.marginal("I", k))
        if j < n:
            p = min(p, 1.0 - tagger.marginal("I", j))
        out.append((i, j, p))
        i = j
    return out
