"""`from_csv`: a user's own credit table for benchmarks/modeling.py --data."""

import numpy as np
import pytest

from yinji.testing.datasets import from_csv

pytest.importorskip("pandas")


def write(tmp_path, text):
    p = tmp_path / "t.csv"
    p.write_text(text)
    return str(p)


def test_features_label_and_missing_values(tmp_path):
    path = write(tmp_path, "cust_id,income,assets,job,bad\n"
                           "101,10,1.5,a,yes\n102,,2.5,b,no\n103,30,3.5,a,no\n")
    d = from_csv(path, "bad")
    assert d.features == ["income", "assets"]  # the ID and the text column are left out
    assert d.y.tolist() == [1, 0, 0]
    assert d.x[:, 0].tolist() == [10, 20, 30]  # the median fills the gap
    assert from_csv(path, "bad", positive="no").y.tolist() == [0, 1, 1]
    assert np.array_equal(from_csv(path, "bad", ["assets", "cust_id"]).x[:, 1], [101, 102, 103])


@pytest.mark.parametrize("args, message", [
    (("default",), "no label column 'default'"),
    (("job",), "must have two values"),
    (("bad", ["income", "job"]), "job are not numeric"),
    (("bad", ["income", "nope"]), "no feature column"),
    (("bad", None, "maybe"), "'maybe' is not a value"),
])
def test_clear_errors(tmp_path, args, message):
    path = write(tmp_path, "income,assets,job,bad\n1,2,a,yes\n2,3,b,no\n3,4,c,no\n")
    with pytest.raises(ValueError, match=message):
        from_csv(path, *args)


def test_numeric_label_and_positive_compare_as_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,default\n1.5,2,1.0\n1.5,2,0.0\n5,7,1.0\n")
    assert from_csv(str(path), "default", positive="1").y.tolist() == [1, 0, 1]
    assert from_csv(str(path), "default", positive="0").y.tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="'x' is not a number"):
        from_csv(str(path), "default", positive="x")


def test_infinite_feature_values_are_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,bad\n1.5,inf,1\n1.5,4,0\n5,-inf,1\n")
    with pytest.raises(ValueError, match=r"infinite values in feature column\(s\) b \(rows 2, 4\)"):
        from_csv(str(path), "bad")
