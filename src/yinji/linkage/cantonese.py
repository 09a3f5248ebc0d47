"""Hong Kong Government Cantonese romanisation of names, for linking 陳大文 to "CHAN Tai Man".

Hong Kong ID cards and the offshore company's systems write a Chinese name in the Hong
Kong Government romanisation ("CHAN Tai Man", "Chan Tai-man", "TAI MAN CHAN", "Chan, Tai
Man"), which shares almost nothing with pinyin (Chen Dawen). Design:

- *A second view, not a merged one.* A name becomes, besides its pinyin/Latin token set
  (normalise.name_tokens), a set of *Hong Kong keys*: for characters, each character's
  Cantonese reading; for Latin letters, each word. Putting both spellings of a Chinese name
  into one token set would halve its agreement with either Latin spelling (a name in
  characters would then rarely reach the threshold against a sparse Latin record), so the
  linkage unit scores a pair on both views and keeps the better -- but only across scripts
  (characters vs Latin letters): the romanisation merges surnames that characters keep apart
  (王 and 黄 are both Wong, 刘 and 柳 both Lau), so two names in characters are compared on
  pinyin only (groups.py).
- *No way back from Latin to characters.* "Man" is 文, 敏, 萬, 民 ...; we never guess
  characters from a Latin name, we only map characters forward to how Hong Kong writes them.
- *Keys, not spellings.* The romanisation is not one-to-one even on ID cards (大: Tai or
  Dai; 郭: Kwok or Kuok; 李: Lee or Li; 葉: Yip or Ip; 何: Ho or Hoh), so each syllable is
  folded to a coarse key (`key`): aspirated/unaspirated initials merged (t/d, k/g/kw/gw,
  ch/ts/tz/j), doubled vowels and spelling marks dropped (aa→a, ee→i, -h, -r), y before
  i and w before u dropped. Both sides go through the same fold.
- *Surnames.* A surname character's reading comes from a table of the spellings Hong Kong
  uses (SURNAMES: Chan 陈, Wong 黄/王, Cheung 张, Lee 李, Ng 吴, ...); other characters from
  the `cantonese-romanisation` package (HK Government romanisation per traditional
  character, several per character in no order of frequency: 大 daai/dai/tai; the name is
  first converted to traditional with OpenCC s2t, phrase-aware, so 祖儿 reads 祖兒). We
  chose it over `pycantonese` / `ToJyutping`, which give Jyutping (zoeng1; pycantonese
  reads traditional characters only), not the spellings on ID cards, and would need a
  Jyutping-to-HK table of our own. Joined compound
  surnames ("Auyeung", "Szeto") are split as Hong Kong writes them.
- *Several readings.* The encoding's Hong Kong view takes the keys of up to
  MAX_ALTERNATIVES readings of each character (the file may have used any); the evidence
  rule, which needs exact equality, uses a coarser `skeleton` of the first reading (initial,
  n/l merged, and the final's class), which absorbs most vowel disagreements.

Measured on real Hong Kong names (benchmarks/linkage_hk.py, a held-out list included).
Nothing here is secret (public normalisation); the keys are encoded with the owners' key.
"""

from __future__ import annotations

import functools
import re

# Hong Kong spelling of common surnames (simplified characters; the traditional forms are
# folded to these before lookup). Where Hong Kong has variants (Lee/Li, Yip/Ip), the fold
# (`key`) makes them agree.
SURNAMES = {
    "陈": "chan", "黄": "wong", "王": "wong", "张": "cheung", "李": "lee", "吴": "ng",
    "何": "ho", "梁": "leung", "刘": "lau", "谢": "tse", "叶": "yip", "郭": "kwok",
    "曾": "tsang", "林": "lam", "周": "chow", "郑": "cheng", "杨": "yeung", "许": "hui",
    "蔡": "choi", "冯": "fung", "邓": "tang", "徐": "tsui", "朱": "chu", "余": "yu",
    "胡": "wu", "卢": "lo", "罗": "law", "马": "ma", "麦": "mak", "莫": "mok", "苏": "so",
    "冼": "sin", "邱": "yau", "袁": "yuen", "潘": "poon", "彭": "pang", "庄": "chong",
    "区": "au", "施": "sze", "石": "shek", "简": "kan", "甘": "kam", "金": "kam",
    "江": "kong", "钟": "chung", "文": "man", "孔": "hung", "杜": "to", "董": "tung",
    "龚": "kung", "丁": "ting", "萧": "siu", "邵": "shiu", "高": "ko", "顾": "koo",
    "姚": "yiu", "廖": "liu", "温": "wan", "严": "yim", "颜": "ngan", "谭": "tam",
    "汤": "tong", "唐": "tong", "伍": "ng", "黎": "lai", "赖": "lai", "关": "kwan",
    "霍": "fok", "方": "fong", "范": "fan", "钱": "chin", "孙": "suen", "赵": "chiu",
    "吕": "lui", "邹": "chau", "戴": "tai", "魏": "ngai", "侯": "hau", "沈": "shum",
    "翁": "yung", "车": "che", "容": "yung", "尹": "wan", "单": "shin", "岑": "sham",
    "司徒": "szeto", "欧阳": "au yeung", "上官": "sheung kwun", "诸葛": "chu kot",
}
# Joined Latin spellings of compound surnames -> Hong Kong's words
JOINED = {"auyeung": ("au", "yeung"), "auyang": ("au", "yeung"), "szeto": ("szeto",),
          "seto": ("szeto",), "sheungkwun": ("sheung", "kwun")}

_FOLDS = (  # applied in order to a lower-case Latin syllable
    (r"ck$", "k"), (r"(?<=[aeiou])h$", ""), (r"(?<=[aeiou])r(?=[kmnpt]?$)", ""), (r"um$", "am"), (r"un$", "an"),
    (r"aw$", "o"), (r"ow$", "au"), (r"oy$", "oi"), (r"eo", "eu"), (r"aa", "a"),
    (r"ee", "i"), (r"ei", "i"), (r"oo", "u"), (r"ue$", "u"), (r"^kuo", "kwo"),
    (r"^tsz$", "ci"), (r"^sze?$", "si"), (r"eng$", "ing"),
    (r"^(tz|ts|ch|j)", "c"), (r"^(sz|sh)", "s"), (r"^(kw|gw|g)", "k"),
    (r"^d", "t"), (r"^b", "p"), (r"^y(?=i)", ""), (r"^w(?=u)", ""),
)
_FOLD_RE = tuple((re.compile(a), b) for a, b in _FOLDS)


@functools.lru_cache(maxsize=1 << 14)
def key(syllable: str) -> str:
    """The coarse key of one Hong Kong-romanised syllable (module docstring)."""
    s = syllable.lower()
    for pat, rep in _FOLD_RE:
        s = pat.sub(rep, s)
    return s or syllable


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, list[str]]:
    from cantoroman import Cantonese

    return Cantonese().charToRoman


@functools.lru_cache(maxsize=1)
def _s2t():  # noqa: ANN202 - opencc.OpenCC
    import opencc

    return opencc.OpenCC("s2t.json")


@functools.lru_cache(maxsize=1 << 14)
def char_readings(ch: str) -> tuple[str, ...]:
    """Hong Kong Government romanisations of one character (traditional preferred; a
    simplified one through OpenCC s2t), from `cantonese-romanisation`, in the package's
    order; () if unknown."""
    table = _table()
    got = table.get(_s2t().convert(ch)) or table.get(ch) or []
    return tuple(dict.fromkeys(r.lower() for r in got if r and r.isascii()))


MAX_ALTERNATIVES = 3


def han_keys(chars: str, alternatives: bool = False) -> list[str]:
    """Hong Kong keys of a name in characters (either script), surname first: each
    character's first reading, or with `alternatives` the keys of up to MAX_ALTERNATIVES of
    its readings (the romanisation a Hong Kong file used may be any of them)."""
    if not chars:
        return []
    from yinji.linkage.normalise import to_simplified

    trad = _s2t().convert(chars)  # phrase-aware: 祖儿 -> 祖兒 (er), not 儿 (yan)
    simp = to_simplified(chars)
    sur = next((s for s in (simp[:2], simp[:1]) if s in SURNAMES), None)
    out = [key(w) for w in SURNAMES[sur].split()] if sur else []
    for ch in trad[len(sur) if sur else 0:]:
        keys = list(dict.fromkeys(key(r) for r in char_readings(ch)))
        out += keys[:MAX_ALTERNATIVES if alternatives else 1]
    return out


def latin_keys(words: list[str]) -> list[str]:
    """Hong Kong keys of a Latin name's words (already lower-case ASCII)."""
    out: list[str] = []
    for w in words:
        out += [key(x) for x in JOINED.get(w, (w,))]
    return out


_SKELETON = re.compile(r"^([^aeiouy]*)[aeiouy]*([^aeiouy]*)$")


def skeleton(k: str) -> str:
    """A coarser key for the minimum-evidence rule: the initial (n and l merged, as
    Cantonese speakers merge them) and the final's class (n/ng, m, a stop k/t/p, or none).
    It absorbs the vowel spellings on which readings and files disagree (Ching / Cheng,
    Kwun / Kwan, Yuk / Yok)."""
    m = _SKELETON.match(k)
    if not m:
        return k
    ini, fin = m.group(1), m.group(2)
    ini = "l" if ini == "n" else ini
    fin = {"ng": "n", "n": "n", "m": "m", "k": "k", "t": "k", "p": "k"}.get(fin, fin)
    return f"{ini}-{fin}"
