"""Preprocessing that travels with the model: a declarative, per-party transform of a party's
OWN columns into model features, fitted once, stored as JSON next to the party's model part
(`prep.json`, yinji.ml.registry) and applied by the same function (`apply`) in training, in
node jobs and at prediction.

A spec is a dict {column: declaration}; an undeclared column gets the default for its values
(numeric if every present value parses as a number, else text). A declaration:

    {"kind": "numeric",                 # or "text", "ignore", "woe"
     "missing": [999, 999999],          # sentinel codes that mean "missing" (also for text)
     "impute": "median",                # "median" (default) | "mean" | "constant" | "none"
     "fill": 0.0,                       # the constant of impute="constant"
     "indicator": "auto",               # add `<col>[missing]` (0/1): True | False | "auto"
                                        #   ("auto": when the fitting rows had a missing value)
     "clip": [lo, hi] | {"quantiles": [0.01, 0.99]}}   # declared or fitted bounds (either None)
    {"kind": "text", "missing": ["N/A"], "max_categories": 20,
     "overflow": "error",               # more categories than that: refuse naming the column,
                                        #   or "other": keep the most frequent, rest -> other
     "min_count": 1,                    # rarer categories go to the other bucket
     "categories": ["a", "b"],          # optional declared list (needed for a joint fit):
                                        #   values outside it go to the other bucket
     "other": "auto"}                   # `<col>[other]`: True | False | "auto" (when needed)
    {"kind": "woe", "edges": [...], "woe": [...], "missing_woe": 0.0}
                                        # hook for yinji.ml.woe: fitted right-closed bins
                                        # (-inf, e0], (e0, e1], ..., (ek, inf) -> WOE values

Missing cells are empty strings, None or NaN (how an empty CSV cell arrives), or a declared
sentinel. Infinity is always an error naming the column; so is a missing cell under
impute="none", a value that is not a number in a numeric column, and a declared column absent
from the table. Output columns are named deterministically and positionally: `<col>`,
`<col>[missing]`, `<col>[0]`, `<col>[1]`, ... (the k-th category in sorted order),
`<col>[other]` -- so the public model metadata (which lists them) does not carry category
values; the mapping stays in the party's own `prep.json`. Fitted state is plain JSON, no
pickle (`state` dicts: "format", "columns").

Fitting. Vertical data (SS-LR, SecureBoost): each party fits on its own rows only -- nothing
is exchanged, nobody else learns the statistics; only the output column names are public.
Horizontal data (FedAvg, FedBoost): the statistics must be pooled, so `joint_fit_client` /
`joint_fit_server` fit them with ONE secure aggregation (yinji.ml.secagg) of per-column sums,
present and missing counts, histogram counts over declared public bins (median) and
per-category counts over a declared category list (`"categories": [...]`); the server turns
the totals into the fitted state by the same rules as the local fit and sends it to every
client. See `joint_fit_server` for its adversary model and leakage.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from yinji.net.channel import Party

FORMAT = 1
KINDS = ("numeric", "text", "ignore", "woe")
IMPUTE = ("median", "mean", "constant", "none")
MAX_CATEGORIES = 20
JOINT_FRAC_BITS = 8           # secure aggregation of sums/counts: |total| < 2^54
_JOINT_LIMIT = 2.0 ** 52      # per-client |sum| bound checked before aggregating
_NUMERIC_KEYS = {"kind", "missing", "impute", "fill", "indicator", "clip", "bins"}
_TEXT_KEYS = {"kind", "missing", "max_categories", "overflow", "min_count", "other",
              "categories"}
_WOE_KEYS = {"kind", "missing", "edges", "woe", "missing_woe"}


class PrepError(ValueError):
    """A spec or a table that cannot be preprocessed; the message names the column."""


# ------------------------------------------------------------------ spec checking
def check_spec(spec: Mapping[str, Any], columns: Sequence[str] | None = None) -> list[str]:
    """Problems with a spec (empty list if none); `columns` are the input columns, when
    known (a declared column that is not one of them is a problem)."""
    if not isinstance(spec, Mapping):
        return ["the preprocessing spec must be an object {column: declaration}"]
    problems = []
    for col, d in spec.items():
        if columns is not None and col not in columns:
            problems.append(f"preprocessing declares {col!r}, which is not an input column")
        if not isinstance(d, Mapping):
            problems.append(f"{col!r}: a declaration must be an object")
            continue
        kind = d.get("kind", "numeric" if "impute" in d or "clip" in d else None)
        if kind is not None and kind not in KINDS:
            problems.append(f"{col!r}: kind must be one of {', '.join(KINDS)}")
            continue
        allowed = {"numeric": _NUMERIC_KEYS, "text": _TEXT_KEYS, "woe": _WOE_KEYS,
                   "ignore": {"kind"}}.get(kind or "", _NUMERIC_KEYS | _TEXT_KEYS)
        stray = set(d) - allowed
        if stray:
            problems.append(f"{col!r}: unknown key(s) {', '.join(sorted(stray))} for kind "
                            f"{kind or 'numeric/text'}")
        miss = d.get("missing", [])
        if not isinstance(miss, list) or not all(isinstance(v, int | float | str) and
                                                 not isinstance(v, bool) for v in miss):
            problems.append(f"{col!r}: missing must be a list of sentinel numbers or strings")
        if d.get("impute", "median") not in IMPUTE:
            problems.append(f"{col!r}: impute must be one of {', '.join(IMPUTE)}")
        if not _is_num(d.get("fill", 0.0)):
            problems.append(f"{col!r}: fill must be a number")
        for key in ("indicator", "other"):
            if d.get(key, "auto") not in (True, False, "auto"):
                problems.append(f"{col!r}: {key} must be true, false or \"auto\"")
        clip = d.get("clip")
        if clip is not None:
            q = clip.get("quantiles") if isinstance(clip, Mapping) else None
            if isinstance(clip, Mapping):
                if set(clip) != {"quantiles"} or not (
                        isinstance(q, list) and len(q) == 2 and all(_is_num(v) for v in q)
                        and 0 <= q[0] < q[1] <= 1):
                    problems.append(f"{col!r}: clip quantiles must be [low, high] in [0, 1]")
            elif not (isinstance(clip, list) and len(clip) == 2 and
                      all(v is None or _is_num(v) for v in clip) and
                      (None in clip or clip[0] <= clip[1])):
                problems.append(f"{col!r}: clip must be [low, high] (numbers or null) or "
                                "{\"quantiles\": [low, high]}")
        mc = d.get("max_categories", MAX_CATEGORIES)
        if not isinstance(mc, int) or isinstance(mc, bool) or not 1 <= mc <= 1000:
            problems.append(f"{col!r}: max_categories must be an integer in 1..1000")
        mn = d.get("min_count", 1)
        if not isinstance(mn, int) or isinstance(mn, bool) or mn < 1:
            problems.append(f"{col!r}: min_count must be a positive integer")
        if d.get("overflow", "error") not in ("error", "other"):
            problems.append(f"{col!r}: overflow must be \"error\" or \"other\"")
        for key in ("bins", "edges"):
            if key in d and not _increasing(d[key]):
                problems.append(f"{col!r}: {key} must be a non-empty increasing list of numbers")
        if "categories" in d and not (isinstance(d["categories"], list) and d["categories"]
                                      and all(isinstance(c, str) for c in d["categories"])
                                      and len(set(d["categories"])) == len(d["categories"])):
            problems.append(f"{col!r}: categories must be a list of distinct strings")
        if kind == "woe":
            w = d.get("woe")
            if not _increasing(d.get("edges")) or not isinstance(w, list) or \
                    len(w) != len(d["edges"]) + 1 or not all(_is_num(v) for v in w):
                problems.append(f"{col!r}: woe needs edges (k increasing numbers) and woe "
                                "(k + 1 numbers, one per bin)")
            if not _is_num(d.get("missing_woe", 0.0)):
                problems.append(f"{col!r}: missing_woe must be a number")
    return problems


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)


def _increasing(v: Any) -> bool:
    return (isinstance(v, list) and len(v) > 0 and all(_is_num(e) for e in v)
            and all(a < b for a, b in zip(v, v[1:], strict=False)))


# ------------------------------------------------------------------ parsing cells
def _column(table: Mapping[str, Any], col: str) -> np.ndarray:
    if col not in table:
        raise PrepError(f"column {col!r} is missing from the input (the preprocessing "
                        "declares it)")
    return np.asarray(table[col])


def _blank(a: np.ndarray) -> np.ndarray:
    """Empty / None / NaN cells of an object or float array."""
    if a.dtype.kind == "f":
        return np.isnan(a)
    if a.dtype.kind in "iub":
        return np.zeros(a.shape, bool)
    return np.fromiter((v is None or (isinstance(v, float) and np.isnan(v)) or
                        (isinstance(v, str) and not v.strip()) for v in a.ravel()),
                       bool, a.size)


def _numbers(col: str, raw: np.ndarray, sentinels: Sequence[Any]) -> np.ndarray:
    """The column as floats with NaN for missing (blank or a sentinel); errors name `col`."""
    if raw.dtype.kind in "fiub":
        blank = _blank(raw)
        v = raw.astype(np.float64)
    else:   # text cells: blank or a declared code (as text) is missing, the rest must parse
        raw, blank = _strings(raw, sentinels)
        v = np.full(raw.shape, np.nan)
        for i in np.flatnonzero(~blank):
            try:
                v[i] = float(str(raw[i]).strip())
            except ValueError:   # never echo the value: it may be personal data
                raise PrepError(f"column {col!r} has a value that is not a number (data row "
                                f"{i + 1}); declare it kind \"text\" or fix the row") from None
    v[blank] = np.nan
    if np.isinf(v).any():
        rows = np.flatnonzero(np.isinf(v))
        raise PrepError(f"column {col!r} is infinite on {rows.size} row(s) (data rows "
                        f"{', '.join(str(r + 1) for r in rows[:5])}): fix or drop them")
    nums = [float(s) for s in sentinels if _is_num(s)]
    if nums:
        v[np.isin(v, nums)] = np.nan
    return v


def _strings(raw: np.ndarray, sentinels: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(stripped strings, missing mask): blank cells and sentinels (compared as text, a
    number also as its integer spelling) are missing."""
    blank = _blank(raw)
    s = np.asarray(["" if b else _text(v) for v, b in zip(raw.ravel(), blank, strict=True)],
                   dtype=object)
    codes = {str(x) for x in sentinels} | {str(int(x)) for x in sentinels
                                            if _is_num(x) and float(x).is_integer()}
    missing = blank | np.isin(s, list(codes)) if codes else blank
    return s, missing


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _parses(raw: np.ndarray, sentinels: Sequence[Any]) -> bool:
    """Every present value (not blank, not a declared code) is a number."""
    if raw.dtype.kind in "fiub":
        return True
    s, missing = _strings(raw, sentinels)
    try:
        for v in s[~missing]:
            float(v)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ fitting (one party)
def fit(spec: Mapping[str, Any] | None, columns: Sequence[str],
        table: Mapping[str, Any]) -> dict[str, Any]:
    """Fit the preprocessing of `columns` (in this order) on this party's own rows `table`
    (column -> values); returns the JSON-serialisable state for `apply`."""
    spec = dict(spec or {})
    problems = check_spec(spec, list(columns))
    if problems:
        raise PrepError("; ".join(problems))
    out = []
    for col in columns:
        raw = _column(table, col)
        d = dict(spec.get(col, {}))
        kind = d.get("kind") or ("numeric" if _parses(raw, d.get("missing", [])) else "text")
        if kind == "numeric":
            v = _numbers(col, raw, d.get("missing", []))
            out.append(_numeric_state(col, d, _numeric_stats(v, d)))
        elif kind == "text":
            s, missing = _strings(raw, d.get("missing", []))
            cats, counts = np.unique(s[~missing], return_counts=True)
            found = dict(zip(cats.tolist(), counts.tolist(), strict=True))
            declared = d.get("categories")   # a declared list: anything else is other
            kept = found if declared is None else {c: k for c, k in found.items()
                                                   if c in declared}
            out.append(_text_state(col, d, kept, int(missing.sum()),
                                   sum(found.values()) - sum(kept.values())))
        elif kind == "woe":
            out.append(_woe_state(col, d))
        else:
            out.append({"name": col, "kind": "ignore"})
    return {"format": FORMAT, "columns": out}


def _numeric_stats(v: np.ndarray, d: Mapping[str, Any]) -> dict[str, Any]:
    """What the numeric rules need from the rows: bounds, median/mean, counts."""
    present = v[~np.isnan(v)]
    lo, hi = _bounds(d, present)
    clipped = np.clip(present, lo, hi) if present.size else present
    return {"lo": lo, "hi": hi, "n": int(present.size), "missing": int(v.size - present.size),
            "median": float(np.median(clipped)) if present.size else None,
            "mean": float(clipped.mean()) if present.size else None}


def _bounds(d: Mapping[str, Any], present: np.ndarray) -> tuple[float | None, float | None]:
    clip = d.get("clip")
    if clip is None:
        return None, None
    if isinstance(clip, Mapping):
        if not present.size:
            return None, None
        q = clip["quantiles"]
        return float(np.quantile(present, q[0])), float(np.quantile(present, q[1]))
    return (None if clip[0] is None else float(clip[0]),
            None if clip[1] is None else float(clip[1]))


def _numeric_state(col: str, d: Mapping[str, Any], st: Mapping[str, Any]) -> dict[str, Any]:
    impute = d.get("impute", "median")
    if impute == "none" and st["missing"]:
        raise PrepError(f"column {col!r} has {st['missing']} missing value(s) and impute is "
                        "\"none\"")
    if impute == "constant":
        fill = float(d.get("fill", 0.0))
    elif impute == "none":
        fill = None
    else:  # median / mean; an all-missing column imputes 0 (its indicator says all missing)
        fill = st[impute] if st[impute] is not None else 0.0
    ind = d.get("indicator", "auto")
    return {"name": col, "kind": "numeric", "missing": list(d.get("missing", [])),
            "impute": impute, "fill": fill, "clip": [st["lo"], st["hi"]],
            "indicator": bool(st["missing"] > 0 if ind == "auto" else ind),
            "fitted_rows": st["n"] + st["missing"], "fitted_missing": st["missing"]}


def _text_state(col: str, d: Mapping[str, Any], counts: Mapping[str, int],
                n_missing: int, n_other: int = 0) -> dict[str, Any]:
    """`counts`: rows per candidate category; `n_other`: rows outside the declared list."""
    min_count, cap = d.get("min_count", 1), d.get("max_categories", MAX_CATEGORIES)
    common = {c: k for c, k in counts.items() if k >= min_count}
    if len(common) > cap:
        if d.get("overflow", "error") == "error":
            raise PrepError(f"text column {col!r} has {len(common)} categories, more than "
                            f"max_categories={cap}: declare it \"ignore\", raise "
                            "max_categories, or set overflow \"other\"")
        common = dict(sorted(common.items(), key=lambda kv: (-kv[1], kv[0]))[:cap])
    cats = sorted(common)
    other = d.get("other", "auto")
    ind = d.get("indicator", "auto")
    return {"name": col, "kind": "text", "missing": list(d.get("missing", [])),
            "categories": cats,
            "other": bool(len(common) < len([k for k in counts.values() if k > 0])
                          or n_other > 0 if other == "auto" else other),
            "indicator": bool(n_missing > 0 if ind == "auto" else ind),
            "fitted_rows": int(sum(counts.values()) + n_other + n_missing),
            "fitted_missing": n_missing}


def _woe_state(col: str, d: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": col, "kind": "woe", "missing": list(d.get("missing", [])),
            "edges": [float(e) for e in d["edges"]], "woe": [float(w) for w in d["woe"]],
            "missing_woe": float(d.get("missing_woe", 0.0))}


# ------------------------------------------------------------------ applying
def output_columns(state: Mapping[str, Any]) -> list[str]:
    """The model's feature names produced by `apply(state, ...)`, in order."""
    names: list[str] = []
    for c in _columns(state):
        n = c["name"]
        if c["kind"] in ("numeric", "woe"):
            names += [n] + ([f"{n}[missing]"] if c.get("indicator") else [])
        elif c["kind"] == "text":
            names += [f"{n}[{k}]" for k in range(len(c["categories"]))]
            names += ([f"{n}[other]"] if c["other"] else []) + \
                     ([f"{n}[missing]"] if c["indicator"] else [])
    return names


def input_columns(state: Mapping[str, Any]) -> list[str]:
    """The columns `apply` reads (every declared column but the ignored ones)."""
    return [c["name"] for c in _columns(state) if c["kind"] != "ignore"]


def apply(state: Mapping[str, Any], table: Mapping[str, Any]) -> np.ndarray:
    """The (rows x len(output_columns(state))) float matrix of `table` (column -> values).
    Unseen categories go to `<col>[other]` (all zeros without one); a missing value gets
    the fitted fill (and indicator); a text missing value without an indicator counts as
    other. Errors name the column."""
    blocks: list[np.ndarray] = []
    n = None
    for c in _columns(state):
        if c["kind"] == "ignore":
            continue
        raw = _column(table, c["name"])
        if n is not None and len(raw) != n:
            raise PrepError(f"column {c['name']!r} has {len(raw)} rows, others {n}")
        n = len(raw)
        if c["kind"] == "numeric":
            blocks.append(_apply_numeric(c, raw))
        elif c["kind"] == "woe":
            v = _numbers(c["name"], raw, c["missing"])
            miss = np.isnan(v)
            w = np.asarray(c["woe"])[np.searchsorted(c["edges"], np.where(miss, 0.0, v),
                                                     side="left")]
            blocks.append(np.where(miss, c["missing_woe"], w)[:, None])
        else:
            blocks.append(_apply_text(c, raw))
    if not blocks:
        return np.zeros((n or 0, 0))
    return np.column_stack(blocks).astype(np.float64)


def _apply_numeric(c: Mapping[str, Any], raw: np.ndarray) -> np.ndarray:
    v = _numbers(c["name"], raw, c["missing"])
    miss = np.isnan(v)
    if miss.any() and c["fill"] is None:
        raise PrepError(f"column {c['name']!r} has {int(miss.sum())} missing value(s) and "
                        "impute is \"none\"")
    lo, hi = c["clip"]
    v = np.clip(v, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    v = np.where(miss, c["fill"] if c["fill"] is not None else 0.0, v)
    return np.column_stack([v, miss.astype(np.float64)]) if c["indicator"] else v[:, None]


def _apply_text(c: Mapping[str, Any], raw: np.ndarray) -> np.ndarray:
    s, miss = _strings(raw, c["missing"])
    cats = np.asarray(c["categories"], dtype=object)
    idx = np.searchsorted(cats, s) if len(cats) else np.zeros(len(s), np.int64)
    known = (idx < len(cats)) & ~miss
    known[known] = cats[idx[known]] == s[known]
    out = np.zeros((len(s), len(cats)))
    out[np.flatnonzero(known), idx[known]] = 1.0
    extra = []
    if c["other"]:
        extra.append(~known & (~miss if c["indicator"] else True))
    if c["indicator"]:
        extra.append(miss)
    return np.column_stack([out, *[e.astype(np.float64) for e in extra]]) if extra else out


def _columns(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(state, Mapping) or state.get("format") != FORMAT or \
            not isinstance(state.get("columns"), list):
        raise PrepError(f"not a preprocessing state of format {FORMAT}")
    return state["columns"]


def describe(state: Mapping[str, Any]) -> list[str]:
    """One human-readable line per input column (for `yinji model show`)."""
    lines = []
    for c in _columns(state):
        n, k = c["name"], c["kind"]
        miss = f", missing codes {c['missing']}" if c.get("missing") else ""
        if k == "numeric":
            fill = "none (missing refused)" if c["fill"] is None else f"{c['impute']} = {c['fill']:.6g}"
            lo, hi = c["clip"]
            clip = "" if lo is None and hi is None else f", clipped to [{lo}, {hi}]"
            lines.append(f"{n}: numeric, impute {fill}{clip}"
                         f"{', + missing indicator' if c['indicator'] else ''}{miss}")
        elif k == "text":
            cats = ", ".join(f"[{i}]={v}" for i, v in enumerate(c["categories"]))
            lines.append(f"{n}: text one-hot {cats}{', + [other]' if c['other'] else ''}"
                         f"{', + [missing]' if c['indicator'] else ''}{miss}")
        elif k == "woe":
            lines.append(f"{n}: WOE, {len(c['woe'])} bins at {c['edges']}{miss}")
        else:
            lines.append(f"{n}: ignored")
    return lines


def dumps(state: Mapping[str, Any]) -> str:
    return json.dumps(state, indent=1, sort_keys=True, allow_nan=False)


# ------------------------------------------------------------------ joint fitting (horizontal)
def _joint_layout(spec: Mapping[str, Any], columns: Sequence[str]) -> list[tuple[str, str, int]]:
    """(column, kind, length of its block) of the aggregated vector, the same at every party."""
    problems = check_spec(spec, list(columns))
    layout = []
    for col in columns:
        d = spec.get(col)
        if not isinstance(d, Mapping) or d.get("kind") not in KINDS:
            problems.append(f"{col!r}: joint fitting needs every column's kind declared")
            continue
        kind = d["kind"]
        if kind == "numeric":
            if d.get("impute", "median") == "median" and "bins" not in d:
                problems.append(f"{col!r}: a joint median needs declared public bins "
                                "(\"bins\": [edges]); or use impute \"mean\"")
            if isinstance(d.get("clip"), Mapping):
                problems.append(f"{col!r}: joint fitting clips at declared bounds only")
            size = 3 + (len(d["bins"]) + 1 if "bins" in d else 0)
        elif kind == "text":
            if "categories" not in d:
                problems.append(f"{col!r}: joint fitting of a text column needs its declared "
                                "category list (\"categories\": [...])")
                continue
            size = len(d["categories"]) + 2   # declared categories, other, missing
        else:
            size = 0
        layout.append((col, kind, size))
    if problems:
        raise PrepError("; ".join(problems))
    return layout


def joint_statistics(spec: Mapping[str, Any], columns: Sequence[str],
                     table: Mapping[str, Any]) -> np.ndarray:
    """A client's summand of the joint fit (what it submits to secure aggregation)."""
    parts = []
    for col, kind, _ in _joint_layout(spec, columns):
        d, raw = spec[col], _column(table, col)
        if kind == "numeric":
            v = _numbers(col, raw, d.get("missing", []))
            present = v[~np.isnan(v)]
            lo, hi = _bounds(d, present)
            present = np.clip(present, -np.inf if lo is None else lo,
                              np.inf if hi is None else hi)
            total = float(present.sum())
            if abs(total) >= _JOINT_LIMIT:
                raise PrepError(f"column {col!r}: sum {total:.3g} too large for secure "
                                f"aggregation (limit {_JOINT_LIMIT:.3g}); rescale it")
            block = [total, present.size, v.size - present.size]
            if "bins" in d:
                block += np.bincount(np.searchsorted(d["bins"], present, side="left"),
                                     minlength=len(d["bins"]) + 1).tolist()
            parts.append(np.asarray(block, np.float64))
        elif kind == "text":
            s, miss = _strings(raw, d.get("missing", []))
            cats = d["categories"]
            counts = [int(np.sum(s[~miss] == c)) for c in cats]
            parts.append(np.asarray(counts + [int((~miss).sum()) - sum(counts),
                                              int(miss.sum())], np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


def joint_state(spec: Mapping[str, Any], columns: Sequence[str],
                totals: np.ndarray) -> dict[str, Any]:
    """The fitted state from the pooled statistics (server side; same rules as `fit`)."""
    out, at = [], 0
    totals = np.rint(np.asarray(totals, np.float64) * 2**JOINT_FRAC_BITS) / 2**JOINT_FRAC_BITS
    for col, kind, size in _joint_layout(spec, columns):
        d, block = spec[col], totals[at: at + size]
        at += size
        if kind == "numeric":
            n, n_miss = int(round(block[1])), int(round(block[2]))
            median = _hist_median(d["bins"], block[3:]) if "bins" in d and n else None
            st = {"lo": _bounds(d, np.zeros(0))[0], "hi": _bounds(d, np.zeros(0))[1],
                  "n": n, "missing": n_miss, "median": median,
                  "mean": float(block[0] / n) if n else None}
            out.append(_numeric_state(col, d, st))
        elif kind == "text":
            cats = d["categories"]
            counts = {c: int(round(k)) for c, k in zip(cats, block[: len(cats)], strict=True)}
            out.append(_text_state(col, d, {c: k for c, k in counts.items() if k > 0},
                                   int(round(block[-1])), int(round(block[len(cats)]))))
        elif kind == "woe":
            out.append(_woe_state(col, d))
        else:
            out.append({"name": col, "kind": "ignore"})
    return {"format": FORMAT, "columns": out}


def _hist_median(edges: Sequence[float], counts: np.ndarray) -> float:
    """The median of a histogram over right-closed bins (-inf, e0], ..., (ek, inf),
    interpolated linearly inside a finite bin (an open end bin gives its edge)."""
    counts = np.maximum(np.rint(counts), 0)
    half, cum = counts.sum() / 2.0, np.cumsum(counts)
    b = int(np.searchsorted(cum, half, side="left"))
    if b == 0:
        return float(edges[0])
    if b >= len(edges):
        return float(edges[-1])
    before = cum[b - 1]
    frac = (half - before) / counts[b] if counts[b] else 0.5
    return float(edges[b - 1] + frac * (edges[b] - edges[b - 1]))


def joint_fit_client(party: Party, server: str, clients: Sequence[str],
                     spec: Mapping[str, Any], columns: Sequence[str],
                     table: Mapping[str, Any]) -> dict[str, Any]:
    """A horizontal client's side of the joint fit: submit its statistics through secure
    aggregation, receive the fitted state. Checks its own table first (a bad column fails
    here, naming it, before the aggregation starts)."""
    from yinji.ml.secagg import SecAggClient

    stats = joint_statistics(spec, columns, table)
    SecAggClient(party, server, list(clients), frac_bits=JOINT_FRAC_BITS).run(stats)
    state = json.loads(party.channel(server).recv_bytes_at_most(16 << 20))  # fitted rules
    _columns(state)
    return state


def joint_fit_server(party: Party, clients: Sequence[str], spec: Mapping[str, Any],
                     columns: Sequence[str]) -> dict[str, Any]:
    """The server's side of the joint fit: one secure aggregation of every client's
    `joint_statistics`, the state by `joint_state`, sent to every client.

    Adversary model: as yinji.ml.secagg (semi-honest server and clients, the server colludes
    with fewer than the threshold of clients). Every client must finish: a dropout aborts the
    fit (a second total over a smaller set would give the dropped client's counts away).
    Leakage: the server learns the pooled statistics -- per numeric column the sum of the
    present (clipped) values, the present and missing counts (so N, the total row count,
    which FedAvg's standardisation also gives it), the pooled histogram over the declared
    bins; per text column the pooled count of each declared category, of other values and of
    missing ones -- never one client's. Every client learns the fitted state: fill values
    (pooled mean / histogram median), which declared categories occur (at least min_count
    times in the pool), whether any value was missing or outside the declared categories."""
    from yinji.ml.secagg import SecAggServer

    length = sum(size for *_, size in _joint_layout(spec, columns))
    totals, survivors = SecAggServer(party, list(clients),
                                     frac_bits=JOINT_FRAC_BITS).run(length)
    if sorted(survivors) != sorted(clients):
        raise PrepError("a client dropped out of the joint preprocessing fit; restart it "
                        "with every client")
    state = joint_state(spec, columns, totals)
    for c in clients:
        party.channel(c).send_bytes(json.dumps(state).encode())
    return state
