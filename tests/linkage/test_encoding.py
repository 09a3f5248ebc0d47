import dataclasses

import numpy as np

from yinji.linkage.encoding import ClkEncoder, popcount
from yinji.linkage.match import dice_counts
from yinji.linkage.schemas import PERSON

BALANCED = dataclasses.replace(PERSON, balanced=True)

A = {"name": "张伟", "dob": "1980-03-04", "gender": "男", "phone": "13800138000",
     "id_number": "110105198003041234", "address": "北京市朝阳区建国路88号"}
B = {"name": "Zhang Wei", "dob": "19800304", "gender": "M", "phone": "+86 138 0013 8000",
     "id_number": "", "address": "北京市朝陽區建國路88號"}
C = {"name": "王芳", "dob": "1991-07-21", "gender": "女", "phone": "13911112222",
     "id_number": "", "address": "上海市浦东新区世纪大道1号"}


def dice(enc, x, y):
    e = enc.encode([x, y])
    num, den = dice_counts(e[:1], e[1:], np.array([0]), np.array([0]))
    return num[0] / den[0]


def test_match_scores_above_nonmatch(key):
    enc = ClkEncoder(PERSON, key)
    assert dice(enc, A, B) >= PERSON.threshold > dice(enc, A, C)


def test_balanced_encodings_have_constant_weight(key):
    enc = ClkEncoder(BALANCED, key)
    e = enc.encode([A, B, C, {}])
    assert e.shape == (4, 2 * PERSON.size // 8)
    assert (popcount(e) == PERSON.size).all()
    plain = ClkEncoder(dataclasses.replace(PERSON, balanced=False), key).encode([A, {}])
    assert popcount(plain)[1] == 0 and popcount(plain)[0] > 0


def test_encoding_is_keyed_and_deterministic(key):
    e1 = ClkEncoder(PERSON, key).encode([A])
    assert (e1 == ClkEncoder(PERSON, key).encode([A])).all()
    other = ClkEncoder(PERSON, bytes(32)).encode([A])
    assert (e1 != other).mean() > 0.2


def test_balanced_dice_equals_hamming_on_plain_filters(key):
    enc = ClkEncoder(BALANCED, key)
    bits = enc.bits([A, B])
    ham = int((bits[0] != bits[1]).sum())
    assert dice(enc, A, B) == 1 - ham / PERSON.size
