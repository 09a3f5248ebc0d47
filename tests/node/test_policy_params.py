"""node.yaml auto_approve rules bound parameters in the same form as standing approvals."""

from yinji.node.standing import within_bounds


def test_numbers_within_bounds_and_allowed_values():
    bounds = {"leverage_max": {"min": 0.5, "max": 1.0}, "drop_max": {"max": 0.5},
              "preset": {"in": ["qualified"]}}
    ok = {"leverage_max": 0.8, "drop_max": 0.1, "preset": "qualified"}
    assert within_bounds(bounds, ok)
    assert within_bounds(None, {}) and within_bounds({}, ok)
    for name, value in (("leverage_max", 1.01), ("leverage_max", 0.49), ("drop_max", 0.6),
                        ("preset", "professional"), ("leverage_max", "0.8"),
                        ("leverage_max", True)):
        assert not within_bounds(bounds, {**ok, name: value}), (name, value)
    missing = dict(ok)
    del missing["leverage_max"]
    assert not within_bounds(bounds, missing)
    assert not within_bounds({"leverage_max": [0.5, 1.0]}, ok)   # malformed: covers nothing
