"""A deterministic, seeded Chinese/English identity test set for record linkage.

Company A (a mainland broker) stores simplified-Chinese names, birth dates, phones, ID
numbers and addresses. Company B (an offshore broker) stores the same people the way an
offshore desk does: traditional characters or pinyin spellings in either order ("Zhang Wei",
"WEI Zhang", "Zhang Weiming", "ZHANG Wei-Ming"), swapped given-name characters, homophone or
plain typos, missing ID numbers and phones, old addresses, +86 phone formats — plus people A
does not have, many of them namesakes with very common names (张伟, 王芳, 李娜 …).

Used by tests and benchmarks only (seeded NumPy randomness; never by protocol code).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
                "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
                "尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单解仇") + [
    "欧阳", "司马", "诸葛", "上官"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞宇浩凯晨欣"
             "怡子轩梓涵思雨博嘉俊峰志国海东晓春玲燕雪琳婷慧颖佳鑫斌亮波宁琪瑶薇璐倩婉晶"
             "龙凤鸿振永康泽睿铭哲瀚昊天")
COMMON = ["张伟", "王伟", "王芳", "李伟", "李娜", "张敏", "李静", "王静", "刘伟", "王秀英",
          "张丽", "李强", "王磊", "刘洋", "陈静"]
CITIES = [("北京市", ["朝阳区", "海淀区", "东城区", "西城区"]),
          ("上海市", ["浦东新区", "徐汇区", "静安区", "黄浦区"]),
          ("广东省深圳市", ["福田区", "南山区", "罗湖区"]),
          ("广东省广州市", ["天河区", "越秀区", "海珠区"]),
          ("浙江省杭州市", ["西湖区", "上城区", "滨江区"]),
          ("江苏省南京市", ["鼓楼区", "玄武区", "建邺区"]),
          ("四川省成都市", ["锦江区", "武侯区", "青羊区"])]
ROADS = list("人民解放建国中山和平幸福光明长江黄河东风新华胜利文化青年友谊")
HOMOPHONES = {"伟": "玮", "芳": "方", "娜": "那", "敏": "民", "静": "晶", "丽": "莉", "强": "蔷",
              "磊": "蕾", "军": "君", "洋": "阳", "杰": "洁", "涛": "韬", "明": "铭", "超": "朝",
              "华": "桦", "玉": "钰", "红": "虹", "文": "雯", "辉": "晖", "飞": "菲", "宇": "雨",
              "浩": "昊", "凯": "恺", "欣": "馨", "怡": "宜", "思": "斯", "峰": "锋", "婷": "亭",
              "慧": "惠", "颖": "莹", "佳": "嘉", "鑫": "新", "斌": "彬", "亮": "靓", "波": "博"}
FIELDS = ("id", "name", "dob", "gender", "phone", "id_number", "address")


@dataclass
class IdentitySet:
    a: list[dict[str, str]]
    b: list[dict[str, str]]
    links: set[tuple[str, str]]  # (a id, b id)


@functools.lru_cache(maxsize=1)
def _s2t():  # noqa: ANN202
    import opencc

    return opencc.OpenCC("s2t.json")


def _pick(rng: np.random.Generator, seq):  # noqa: ANN001, ANN202
    return seq[int(rng.integers(len(seq)))]


def _id_checksum(body: str) -> str:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * x for c, x in zip(body, w, strict=True)) % 11]


def _address(rng: np.random.Generator) -> str:
    city, districts = _pick(rng, CITIES)
    road = _pick(rng, ROADS) + _pick(rng, ROADS) + _pick(rng, ["路", "街", "大道"])
    return (f"{city}{_pick(rng, districts)}{road}{int(rng.integers(1, 300))}号"
            f"{int(rng.integers(1, 30))}栋{int(rng.integers(101, 2500))}室")


def draw_person(rng: np.random.Generator, common: float) -> dict[str, str]:
    if rng.random() < common:
        name = _pick(rng, COMMON)
    else:
        name = _pick(rng, SURNAMES) + "".join(_pick(rng, GIVEN)
                                              for _ in range(1 + int(rng.random() < 0.7)))
    y, m, d = int(rng.integers(1950, 2002)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    g = "男" if rng.random() < 0.5 else "女"
    region = _pick(rng, ["110105", "310115", "440304", "440106", "330106", "320106", "510104"])
    seq = int(rng.integers(0, 100)) * 10 + (int(rng.integers(0, 5)) * 2 + (g == "男"))
    body = f"{region}{y:04d}{m:02d}{d:02d}{seq:03d}"
    phone = f"1{_pick(rng, '3456789')}{int(rng.integers(0, 10**9)):09d}"
    return {"name": name, "dob": f"{y:04d}-{m:02d}-{d:02d}", "gender": g, "phone": phone,
            "id_number": body + _id_checksum(body), "address": _address(rng)}


def _pinyin(name: str, rng: np.random.Generator) -> str:
    from pypinyin import Style, lazy_pinyin

    from yinji.linkage.normalise import COMPOUND_SURNAMES, SURNAME_READINGS

    n = 2 if name[:2] in COMPOUND_SURNAMES else 1
    syl = lazy_pinyin(name, style=Style.NORMAL)
    if n == 1 and name[0] in SURNAME_READINGS:
        syl[0] = SURNAME_READINGS[name[0]]
    syl = [s.replace("v", "u") for s in syl]
    sur, given = "".join(syl[:n]), syl[n:]
    style = int(rng.integers(4))
    if style == 0:
        g = "".join(given).capitalize()
        return f"{sur.capitalize()} {g}"
    if style == 1:
        return f"{''.join(given).capitalize()} {sur.upper()}"
    if style == 2:
        return f"{sur.upper()} {'-'.join(s.capitalize() for s in given)}"
    return f"{sur.capitalize()}, {' '.join(s.capitalize() for s in given)}"


def _typo_latin(s: str, rng: np.random.Generator) -> str:
    letters = [i for i, c in enumerate(s) if c.isalpha()]
    i = _pick(rng, letters)
    return s[:i] + _pick(rng, "aeioungh") + s[i + 1:]


def vary_person(p: dict[str, str], rng: np.random.Generator) -> dict[str, str]:
    """Company B's record of person p."""
    from yinji.linkage.normalise import COMPOUND_SURNAMES

    t = _s2t()
    q = dict(p)
    name = p["name"]
    n = 2 if name[:2] in COMPOUND_SURNAMES else 1
    if len(name) - n >= 2 and rng.random() < 0.12:  # swapped given-name characters
        name = name[:n] + name[n:][::-1]
    if rng.random() < 0.12:  # homophone typo in the given name
        i = int(rng.integers(n, len(name)))
        name = name[:i] + HOMOPHONES.get(name[i], name[i]) + name[i + 1:]
    r = rng.random()
    if r < 0.35:
        q["name"] = t.convert(name)
    elif r < 0.8:
        q["name"] = _pinyin(name, rng)
        if rng.random() < 0.1:
            q["name"] = _typo_latin(q["name"], rng)
    else:
        q["name"] = name
    if rng.random() < 0.1:  # birth date typo (day or month)
        y, m, d = p["dob"].split("-")
        if rng.random() < 0.5:
            d = f"{(int(d) % 28) + 1:02d}"
        else:
            m, d = (d, m) if int(d) <= 12 else (f"{(int(m) % 12) + 1:02d}", d)
        q["dob"] = f"{y}/{m}/{d}"
    else:
        q["dob"] = p["dob"].replace("-", "")
    if rng.random() < 0.5:
        q["id_number"] = ""
    if rng.random() < 0.25:
        q["phone"] = ""
    elif rng.random() < 0.5:
        ph = p["phone"]
        q["phone"] = f"+86 {ph[:3]} {ph[3:7]} {ph[7:]}"
    if rng.random() < 0.3:
        q["address"] = _address(rng)  # an old address
    if rng.random() < 0.5:
        q["address"] = t.convert(q["address"])
    if rng.random() < 0.1:
        q["address"] = ""
    if rng.random() < 0.3:
        q["gender"] = {"男": "M", "女": "F"}[p["gender"]]
    return q


def chinese_identity_set(n: int = 2000, seed: int = 7, overlap: float = 0.6,
                         common: float = 0.08) -> IdentitySet:
    """n people for company A; a fraction `overlap` of them also at company B (as B writes
    them), plus n·(1 - overlap) people only at B, half of them namesakes of A's people with a
    nearby birth date. Ids are opaque; `links` are the true pairs."""
    rng = np.random.default_rng(seed)
    people = [draw_person(rng, common) for _ in range(n)]
    a = [{"id": f"a{i:06d}", **p} for i, p in enumerate(people)]
    shared = rng.permutation(n)[: int(n * overlap)]
    b_rows, links = [], set()
    for i in shared.tolist():
        b_rows.append((vary_person(people[i], rng), f"a{i:06d}"))
    for k in range(n - len(shared)):
        other = draw_person(rng, common)
        if k % 2 == 0:  # a namesake: same name, same birth year, different person
            src = people[int(rng.integers(n))]
            other["name"] = src["name"]
            other["dob"] = src["dob"][:5] + other["dob"][5:]
        b_rows.append((vary_person(other, rng), None))
    order = rng.permutation(len(b_rows))
    b = []
    for j, r in enumerate(order.tolist()):
        rec, a_id = b_rows[r]
        b.append({"id": f"b{j:06d}", **rec})
        if a_id is not None:
            links.add((a_id, f"b{j:06d}"))
    return IdentitySet(a, b, links)


def unit_links(a, b, key: bytes, schema) -> set[tuple[str, str]]:  # noqa: ANN001 - records, Schema
    """The (a id, b id) links linkage-unit mode makes on records `a` and `b` (no shuffle)."""
    from yinji.linkage.encoding import ClkEncoder
    from yinji.linkage.match import link_encodings, prepare

    pa, pb = prepare(a, schema, key, shuffle=False), prepare(b, schema, key, shuffle=False)
    enc = ClkEncoder(schema, key)
    table, _ = link_encodings(enc.transmit(pa.bits), enc.transmit(pb.bits), pa.tokens,
                              pb.tokens, schema)
    return {(a[i]["id"], b[j]["id"]) for i, j in zip(table.a.tolist(), table.b.tolist(),
                                                     strict=True)}
