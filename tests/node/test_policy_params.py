"""Standing approvals with parameter bounds (auto_approve rules' `params`)."""

from yinji.node.policy import _within


def test_numbers_within_bounds_and_allowed_values():
    bounds = {"leverage_max": [0.5, 1.0], "drop_max": [None, 0.5], "preset": ["qualified"]}
    ok = {"leverage_max": 0.8, "drop_max": 0.1, "preset": "qualified"}
    assert _within(bounds, ok)
    assert _within(None, {}) and _within({}, ok)
    for name, value in (("leverage_max", 1.01), ("leverage_max", 0.49), ("drop_max", 0.6),
                        ("preset", "professional"), ("leverage_max", "0.8"),
                        ("leverage_max", True), ("leverage_max", float("nan"))):
        assert not _within(bounds, {**ok, name: value}), (name, value)
    missing = dict(ok)
    del missing["leverage_max"]
    assert not _within(bounds, missing)
