"""A label far longer than the rest must not silently widen every record's slot (and the hint
every client downloads): the automatic size stops at MAX_AUTO_LABEL bytes and names the rows."""

import pytest

from yinji.pir.records import (
    MAX_AUTO_LABEL,
    MAX_LABEL,
    RecordError,
    build_records,
    label_size_for,
)


def _records(tags):
    rows = [{"id_no": f"11010119900101{i:03d}7", "tag": t} for i, t in enumerate(tags)]
    return build_records(rows, "id_no", ["tag"], "test list", "id")


def test_small_labels_get_the_longest_rounded_up():
    recs = _records(["aml", "fraud", "x" * 40])
    assert label_size_for(recs) == 64          # {"tag":"xxx..."} is 50 bytes
    assert label_size_for(_records([])) == 16
    assert label_size_for(_records(["y" * (MAX_AUTO_LABEL - 10)])) == MAX_AUTO_LABEL


def test_one_oversized_label_is_refused_naming_its_row():
    recs = _records(["aml"] * 5 + ["z" * 20_000] + ["pep"] * 3)
    with pytest.raises(RecordError) as err:
        label_size_for(recs)
    text = str(err.value)
    assert "rows 6;" in text and "20010 bytes" in text and "set the label size" in text
    assert "zzz" not in text                     # sizes and rows, never the value


def test_many_oversized_labels_are_counted():
    recs = _records(["w" * 2000] * 7)
    with pytest.raises(RecordError, match=r"7 label\(s\) .*rows 1, 2, 3, 4, 5, \.\.\."):
        label_size_for(recs)


def test_an_explicit_size_is_the_operators_choice_within_bounds():
    recs = _records(["aml", "z" * 20_000])
    assert label_size_for(recs, 20_016) == 20_016
    with pytest.raises(RecordError, match="longest label is 20010 bytes"):
        label_size_for(recs, 4096)
    for bad in (8, MAX_LABEL + 16):
        with pytest.raises(RecordError, match=f"between 16 and {MAX_LABEL}"):
            label_size_for(_records([]), bad)
