"""yinji.apps.columns: amounts and coded columns, numeric or text, with the bad row named."""

import numpy as np
import pytest

from yinji.apps.base import AppError
from yinji.apps.columns import amounts, per_value


def test_numeric_and_text_columns_give_the_same_cents():
    num = np.array([0.0, 12.345, np.nan, 1e6, -3.5])
    text = np.array(["0", "12.345", "", "1000000", " -3.5 "], dtype=object)
    want = [0, 1234, 0, 100_000_000, -350]
    assert amounts(num, "x", True, 1e10).tolist() == want
    assert amounts(text, "x", True, 1e10).tolist() == want
    assert amounts(np.zeros(0), "x", False, 1e10).tolist() == []


@pytest.mark.parametrize("column, words", [
    (np.array([1.0, -2.0]), "row 2: x must be a non-negative amount"),
    (np.array(["1", "abc"], dtype=object), "row 2: x is not a number"),
    (np.array([1.0, 2e10, np.inf]), "row 2: x must be"),
    (np.array(["5", "inf"], dtype=object), "row 2: x must be"),
])
def test_bad_rows_are_named_without_their_value(column, words):
    with pytest.raises(AppError, match=words) as err:
        amounts(column, "x", False, 1e10)
    assert "abc" not in str(err.value)


def test_per_value_parses_each_distinct_value_once():
    seen = []

    def parse(v, row):
        seen.append((v, row))
        return len(v)

    assert per_value(np.array(["HKD", "", "HKD", None, "USD"], dtype=object),
                     parse).tolist() == [3, 0, 3, 0, 3]
    assert sorted(seen) == [("", 2), ("HKD", 1), ("USD", 5)]
