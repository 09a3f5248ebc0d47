"""Oblivious evaluation of SQL scalar and boolean expressions over secret-shared columns.

A value is a `Val`: a shared column (or a public constant), its type, and a shared 0/1
validity column for NULL (None when it cannot be NULL). A condition is a `Cond` in SQL's
three-valued logic: shared 0/1 columns t ("is TRUE") and f ("is FALSE"); both 0 means NULL.
WHERE keeps rows with t = 1. AND/OR/NOT, comparisons, IN, BETWEEN, IS NULL, CASE and
COALESCE are arithmetic on shares: nothing is opened, every party does the same work for
every row whatever the data (adversary model and leakage: those of yinji.mpc -- none).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlglot import exp

from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor, concatenate, stack, where
from yinji.sql.schema import Column, SqlError, string_hash

NUMERIC = ("int", "decimal", "bool")


@dataclass
class Val:
    x: SharedTensor | None         # None: a public constant in `const`
    valid: SharedTensor | None     # None: never NULL
    kind: str                      # int decimal date string category bool text interval null
    const: Any = None
    column: Column | None = None   # category columns: to map literals to codes


@dataclass
class Cond:
    t: SharedTensor
    f: SharedTensor


class Evaluator:
    """Evaluates expressions over `n` rows. `lookup(node)` supplies columns, group keys and
    aggregates (or returns None for nodes it does not know)."""

    def __init__(self, session: Session, n: int, lookup: Callable[[exp.Expression], Val | None],
                 string_key: bytes) -> None:
        self.s, self.n, self.lookup, self.key = session, n, lookup, string_key

    # ------------------------------------------------------------- helpers
    def public(self, value: Any, frac: int) -> SharedTensor:
        return SharedTensor.public(self.s, np.full(self.n, value), frac)

    def bits(self, value: int) -> SharedTensor:
        return SharedTensor.public(self.s, np.full(self.n, value, np.int64), 0)

    def tensor(self, v: Val) -> SharedTensor:
        if v.x is not None:
            return v.x
        if v.kind == "decimal":
            return self.public(float(v.const), self.s.frac_bits)
        return self.public(int(v.const), 0)

    def valid(self, v: Val) -> SharedTensor:
        return self.bits(1) if v.valid is None else v.valid

    def both_valid(self, a: Val, b: Val) -> SharedTensor | None:
        if a.kind == "null" or b.kind == "null":
            return self.bits(0)
        if a.valid is None:
            return b.valid
        if b.valid is None:
            return a.valid
        return a.valid * b.valid

    # --------------------------------------------------------------- values
    def value(self, e: exp.Expression) -> Val:
        got = self.lookup(e)
        if got is not None:
            return got
        if isinstance(e, (exp.Paren, exp.Alias)):
            return self.value(e.this)
        if isinstance(e, exp.Literal):
            if e.is_string:
                return Val(None, None, "text", e.this)
            num = float(e.this)
            return Val(None, None, "int", int(num)) if num.is_integer() and "." not in e.this \
                and "e" not in e.this.lower() else Val(None, None, "decimal", num)
        if isinstance(e, exp.Null):
            return Val(None, None, "null", 0)
        if isinstance(e, exp.Boolean):
            return Val(None, None, "bool", int(bool(e.this)))
        if isinstance(e, exp.Cast):
            return self.cast(e)
        if isinstance(e, exp.Interval):
            unit = (e.args.get("unit").name if e.args.get("unit") else "day").lower()
            if unit not in ("day", "days") or not isinstance(e.this, exp.Literal):
                raise SqlError(f"unsupported interval {e.sql()} (INTERVAL n DAY)")
            return Val(None, None, "interval", int(float(e.this.this)))
        if isinstance(e, exp.Neg):
            v = self.value(e.this)
            self._numeric(v, e)
            return Val(None, None, v.kind, -v.const) if v.x is None else Val(-v.x, v.valid, v.kind)
        if isinstance(e, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
            return self.arith(e)
        if isinstance(e, exp.Abs):
            v = self.value(e.this)
            self._numeric(v, e)
            return Val(None, None, v.kind, abs(v.const)) if v.x is None else Val(v.x.abs(), v.valid, v.kind)
        if isinstance(e, exp.Case):
            return self.case(e)
        if isinstance(e, exp.If):
            return self.case(exp.Case(ifs=[exp.If(this=e.this, true=e.args["true"])],
                                      default=e.args.get("false")))
        if isinstance(e, exp.Coalesce):
            return self.coalesce([e.this] + list(e.expressions))
        if isinstance(e, exp.DateDiff):
            unit = (e.args.get("unit").name if e.args.get("unit") else "day").lower()
            if unit != "day":
                raise SqlError(f"unsupported: date_diff in {unit!r} (days only)")
            end, start = self.value(e.this), self.value(e.expression)
            for v in (end, start):
                if v.kind != "date":
                    raise SqlError(f"type mismatch: date_diff of {v.kind} in {e.sql()}")
            return Val(self.tensor(end) - self.tensor(start), self.both_valid(end, start), "int")
        if isinstance(e, (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.And, exp.Or,
                          exp.Not, exp.In, exp.Between, exp.Is, exp.Boolean)):
            c = self.cond(e)
            return Val(c.t, c.t + c.f, "bool")
        raise SqlError(f"unsupported expression {e.sql()}")

    def cast(self, e: exp.Cast) -> Val:
        to = e.args["to"].this
        v = self.value(e.this)
        if to in (exp.DataType.Type.DATE,):
            if v.kind == "text":
                return Val(None, None, "date", _day(v.const, e))
            if v.kind == "date":
                return v
        if to in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL):
            self._numeric(v, e)
            if v.x is None:
                return Val(None, None, "decimal", float(v.const))
            return Val(v.x._fixed(), v.valid, "decimal")
        if to in (exp.DataType.Type.INT, exp.DataType.Type.BIGINT) and v.kind in ("int", "bool"):
            return Val(v.x, v.valid, "int", v.const)
        raise SqlError(f"unsupported cast {e.sql()}")

    def _numeric(self, v: Val, e: exp.Expression) -> None:
        if v.kind not in NUMERIC:
            raise SqlError(f"type mismatch: arithmetic on {v.kind} in {e.sql()}")

    def arith(self, e: exp.Expression) -> Val:
        a, b = self.value(e.this), self.value(e.expression)
        if a.kind == "null" or b.kind == "null":
            return Val(None, None, "null", 0)
        kind = _arith_kind(e, a, b)
        if a.x is None and b.x is None:
            ops = {exp.Add: lambda p, q: p + q, exp.Sub: lambda p, q: p - q,
                   exp.Mul: lambda p, q: p * q, exp.Div: lambda p, q: p / q if q else 0.0}
            return Val(None, None, kind, ops[type(e)](a.const, b.const))
        valid = self.both_valid(a, b)
        if isinstance(e, exp.Div):
            x = self.tensor(a)._fixed()
            if b.x is None:
                if b.const == 0:
                    raise SqlError(f"division by zero in {e.sql()}")
                return Val(x * (1.0 / b.const), valid, "decimal")
            return Val(x / self.tensor(b)._fixed(), valid, "decimal")
        ta = a.x if a.x is not None else _pub(a)
        tb = b.x if b.x is not None else _pub(b)
        if isinstance(e, exp.Add):
            out = ta + tb
        elif isinstance(e, exp.Sub):
            out = ta - tb
        else:
            out = ta * tb
        if not isinstance(out, SharedTensor):  # public - shared handled by SharedTensor
            raise SqlError(f"unsupported expression {e.sql()}")
        return Val(out, valid, kind)

    def case(self, e: exp.Case) -> Val:
        default = e.args.get("default")
        branches = [(i.this, i.args["true"]) for i in e.args["ifs"]]
        operand = e.this
        vals = [self.value(v) for _, v in branches]
        rest = self.value(default) if default is not None else Val(None, None, "null", 0)
        kinds = {v.kind for v in vals + [rest]} - {"null"}
        if len(kinds - {"int", "decimal"}) > 0 and len(kinds) > 1:
            raise SqlError(f"type mismatch: CASE branches of types {sorted(kinds)}")
        kind = "decimal" if "decimal" in kinds else (kinds.pop() if kinds else "null")
        if kind == "null":
            return rest
        frac = self.s.frac_bits if kind == "decimal" else 0
        nullable = any(v.valid is not None or v.kind == "null" for v in vals + [rest])

        def as_tensor(v: Val) -> SharedTensor:
            if v.kind == "null":
                return self.public(0, frac)
            t = self.tensor(v)
            return t._fixed() if kind == "decimal" else t

        x, valid = as_tensor(rest), (self.valid(rest) if rest.kind != "null" else self.bits(0))
        for (c, _), v in reversed(list(zip(branches, vals, strict=True))):
            test = exp.EQ(this=operand, expression=c) if operand is not None else c
            t = self.cond(test).t
            vv = self.valid(v) if v.kind != "null" else self.bits(0)
            if nullable:
                valid = where(t, vv, valid)
            x = where(t, as_tensor(v), x)
        column = next((v.column for v in vals if v.column is not None), None)
        return Val(x, valid if nullable else None, kind, column=column)

    def coalesce(self, args: list[exp.Expression]) -> Val:
        vals = [self.value(a) for a in args]
        out = vals[-1]
        for v in reversed(vals[:-1]):
            if v.kind == "null":
                continue
            if v.valid is None:
                out = v
                continue
            if out.kind == "null":
                out = Val(self.public(0, 0), self.bits(0), v.kind, column=v.column)
            kind = "decimal" if "decimal" in (v.kind, out.kind) else v.kind
            a, b = self.tensor(v), self.tensor(out)
            if kind == "decimal":
                a, b = a._fixed(), b._fixed()
            x = where(v.valid, a, b)
            valid = None if out.valid is None else v.valid + out.valid - v.valid * out.valid
            out = Val(x, valid, kind, column=v.column)
        return out

    # ----------------------------------------------------------- conditions
    def cond(self, e: exp.Expression) -> Cond:
        if isinstance(e, exp.Paren):
            return self.cond(e.this)
        if isinstance(e, exp.Boolean):
            return Cond(self.bits(int(bool(e.this))), self.bits(1 - int(bool(e.this))))
        if isinstance(e, exp.Not):
            c = self.cond(e.this)
            return Cond(c.f, c.t)
        if isinstance(e, (exp.And, exp.Or)):
            a, b = self.cond(e.this), self.cond(e.expression)
            p = stack([a.t, a.f]) * stack([b.t, b.f])
            if isinstance(e, exp.And):
                return Cond(p[0], a.f + b.f - p[1])
            return Cond(a.t + b.t - p[0], p[1])
        if isinstance(e, exp.Is):
            if not isinstance(e.expression, exp.Null):
                raise SqlError(f"unsupported: {e.sql()} (IS [NOT] NULL only)")
            v = self.value(e.this)
            ok = self.bits(0) if v.kind == "null" else self.valid(v)
            return Cond(1 - ok, ok)
        if isinstance(e, exp.Between):
            low = exp.GTE(this=e.this, expression=e.args["low"])
            high = exp.LTE(this=e.this, expression=e.args["high"])
            return self.cond(exp.And(this=low, expression=high))
        if isinstance(e, exp.In):
            return self.in_list(e)
        if isinstance(e, (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)):
            return self.compare(e)
        v = self.value(e)
        if v.kind != "bool":
            raise SqlError(f"type mismatch: {e.sql()} is {v.kind}, not a condition")
        return Cond(v.x * self.valid(v), self.valid(v) - v.x * self.valid(v))

    def _pair(self, a: Val, b: Val, e: exp.Expression) -> tuple[SharedTensor, SharedTensor]:
        """Both sides as tensors of one type (literals converted to the other side's type)."""
        if a.x is None and b.x is not None:
            b2, a2 = self._pair(b, a, e)
            return a2, b2
        if b.x is None:
            b = Val(None, None, *self._literal_as(b, a, e))
        ka, kb = _family(a.kind), _family(b.kind)
        if ka != kb:
            raise SqlError(f"type mismatch: {a.kind} vs {b.kind} in {e.sql()}")
        if a.kind == "category" and b.kind == "category" and b.x is not None \
                and a.column.categories != b.column.categories:
            raise SqlError(f"type mismatch: categories differ in {e.sql()}")
        return self.tensor(a), self.tensor(b)

    def _literal_as(self, lit: Val, other: Val, e: exp.Expression) -> tuple[str, Any]:
        if lit.kind != "text":
            return lit.kind, lit.const
        if other.kind == "date":
            return "date", _day(lit.const, e)
        if other.kind == "string":
            return "string", int(string_hash([lit.const], self.key)[0])
        if other.kind == "category":
            cats = other.column.categories
            return "category", cats.index(lit.const) if lit.const in cats else -1
        raise SqlError(f"type mismatch: {other.kind} vs string literal in {e.sql()}")

    def compare(self, e: exp.Expression) -> Cond:
        a, b = self.value(e.this), self.value(e.expression)
        if a.kind == "null" or b.kind == "null":
            return Cond(self.bits(0), self.bits(0))
        if not isinstance(e, (exp.EQ, exp.NEQ)) and "string" in (a.kind, b.kind):
            raise SqlError(f"unsupported: ordering comparison of strings in {e.sql()}")
        x, y = self._pair(a, b, e)
        if isinstance(e, (exp.EQ, exp.NEQ)):
            op = SharedTensor.eq
        elif isinstance(e, exp.LT):
            op = SharedTensor.__lt__
        elif isinstance(e, exp.LTE):
            op = SharedTensor.__le__
        elif isinstance(e, exp.GT):
            op = SharedTensor.__gt__
        else:
            op = SharedTensor.__ge__
        r = chunked(op, x, y)
        if isinstance(e, exp.NEQ):
            r = 1 - r
        return self._with_valid(r, self.both_valid(a, b))

    def _with_valid(self, r: SharedTensor, valid: SharedTensor | None) -> Cond:
        if valid is None:
            return Cond(r, 1 - r)
        t = r * valid
        return Cond(t, valid - t)

    def in_list(self, e: exp.In) -> Cond:
        if e.args.get("query") is not None:
            raise SqlError(f"unsupported: IN (subquery) in {e.sql()}")
        a = self.value(e.this)
        consts = [self.value(c) for c in e.expressions]
        if any(c.x is not None for c in consts):
            raise SqlError(f"unsupported: IN with a non-literal list in {e.sql()}")
        lits = sorted({self._literal_as(c, a, e)[1] for c in consts if c.kind != "null"})
        if not lits or a.kind == "null":
            return Cond(self.bits(0), self.valid(a) if a.kind != "null" else self.bits(0))
        x = self.tensor(a)
        frac = x.frac_bits
        dtype = np.float64 if frac else np.int64
        table = SharedTensor.public(self.s, np.asarray(lits, dtype).reshape(-1, 1)
                                    * np.ones((1, self.n), dtype), frac)
        r = x.reshape(1, -1).eq(table).sum(axis=0)
        return self._with_valid(r, a.valid)


CHUNK = 1 << 20  # rows per comparison batch: bounds the boolean circuit's temporaries


def chunked(op: Callable[[SharedTensor, SharedTensor], SharedTensor], x: SharedTensor,
            y: SharedTensor) -> SharedTensor:
    """op(x, y) for two 1-d tensors of one length, in batches of CHUNK rows (a comparison
    of 10^7 rows at once needs several GB of temporaries); same result, more rounds."""
    n = x.shape[0] if x.ndim == 1 else 0
    if n <= CHUNK or y.shape != x.shape:
        return op(x, y)
    return concatenate([op(x[a:a + CHUNK], y[a:a + CHUNK]) for a in range(0, n, CHUNK)])


def _pub(v: Val) -> Any:
    return float(v.const) if v.kind == "decimal" else int(v.const)


def _family(kind: str) -> str:
    return "num" if kind in NUMERIC else kind


def _arith_kind(e: exp.Expression, a: Val, b: Val) -> str:
    ka, kb = a.kind, b.kind
    if isinstance(e, (exp.Add, exp.Sub)) and "date" in (ka, kb):
        if isinstance(e, exp.Sub) and ka == kb == "date":
            return "int"
        other = kb if ka == "date" else ka
        if other in ("int", "interval") and not (isinstance(e, exp.Sub) and kb == "date"):
            return "date"
        raise SqlError(f"type mismatch: date arithmetic {e.sql()}")
    if "interval" in (ka, kb):
        raise SqlError(f"type mismatch: interval arithmetic {e.sql()}")
    for k in (ka, kb):
        if k not in NUMERIC:
            raise SqlError(f"type mismatch: arithmetic on {k} in {e.sql()}")
    if isinstance(e, exp.Div) or "decimal" in (ka, kb):
        return "decimal"
    return "int"


def _day(text: str, e: exp.Expression) -> int:
    try:
        return (datetime.date.fromisoformat(str(text)) - datetime.date(1970, 1, 1)).days
    except ValueError:
        raise SqlError(f"bad date literal {text!r} in {e.sql()}") from None


__all__ = ["Cond", "Evaluator", "Val"]
