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
    # the ID is left out, the text column one-hot encoded, the gap flagged
    assert d.features == ["income", "income[missing]", "assets", "job[0]", "job[1]"]
    assert d.y.tolist() == [1, 0, 0]
    assert d.x[:, 0].tolist() == [10, 20, 30]  # the median fills the gap
    assert d.x[:, 3:].tolist() == [[1, 0], [0, 1], [1, 0]]
    assert from_csv(path, "bad", text="drop").features == ["income", "income[missing]",
                                                           "assets"]
    assert from_csv(path, "bad", positive="no").y.tolist() == [0, 1, 1]
    assert np.array_equal(from_csv(path, "bad", ["assets", "cust_id"]).x[:, 1], [101, 102, 103])


@pytest.mark.parametrize("args, message", [
    (("default",), "no label column 'default'"),
    (("job",), "must have two values"),
    (("bad", ["income", "job"], None, {"job": {"kind": "numeric"}}),
     "'job' has a value that is not a number"),
    (("bad", ["income", "job"], None, {"job": {"kind": "text", "max_categories": 2}}),
     "text column 'job' has 3 categories"),
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


def test_split_fits_the_preprocessing_on_training_rows_only(tmp_path):
    """The test rows' missing values take the training rows' median, and a category seen
    only in the test rows is not a column."""
    rows = ["income,city,bad"] + [f"{v},{c},{b}" for v, c, b in [
        (1, "a", 0), (2, "a", 1), (3, "b", 0), (4, "b", 1), (100, "a", 0), (200, "b", 1),
        ("", "a", 0), ("", "b", 1), (5, "a", 0), (6, "b", 1)]]
    d = from_csv(write(tmp_path, "\n".join(rows) + "\n"), "bad")
    tr, te = d.split(test_fraction=0.4, seed=1)
    inc_tr = tr.x[tr.x[:, 1] == 0, 0]
    med = np.median(inc_tr)
    assert (tr.x[:, 1] == 1).any() and (te.x[:, 1] == 1).any()   # a gap on each side
    assert med != np.median([1, 2, 3, 4, 100, 200, 5, 6])          # not the whole table's
    assert np.all(te.x[te.x[:, 1] == 1, 0] == med) and np.all(tr.x[tr.x[:, 1] == 1, 0] == med)
    assert tr.features == te.features
