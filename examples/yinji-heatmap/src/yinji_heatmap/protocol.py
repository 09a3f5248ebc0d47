"""Cross-company product-holding heat map: for each pair of product lines (at any companies),
the number of distinct clients of the group who hold both, counted in MPC over a private
client alignment (Yinji's group ledger, `yinji.psi.ledger`); small cells suppressed in MPC;
the matrix opened to one recipient only.

Pipeline (every company and the recipient run `joint_heatmap`):
1. Each company groups its rows (id_no, product_line) by normalised ID: one row per distinct
   client with a 0/1 indicator per product line of its own. It tells every participant its
   product-line names (the matrix's axes) and the compute parties its number of distinct
   clients (the ledger's sharing shapes show them the count anyway).
2. The columns of the whole run: every company's lines (companies sorted, lines sorted),
   then one "held here" column per company. A company's row is its client's indicators in
   its own columns and a 1 in its "held here" column, zeros elsewhere.
3. One group ledger over these rows, fresh keys each run, its lookup party L = compute[0]
   (a requester must never be its ledger's lookup party, so L asks nothing). Dummies:
   (K - 1) per client of the other companies.
4. Each other company Q looks up all its clients, in a secret random order. Per client the
   compute parties sum its K rows (`ledger.totals`): x = its group holdings (0/1 per line),
   h = which companies hold it. The client counts at its first holder among the askers
   only: weight w = prod_{asker c before Q} (1 - h_c) (in MPC). M += (w x)^T x.
5. Clients held by L alone are never asked for. L shares its own pair counts B = X_L^T X_L
   (its clients x its lines, plaintext at L) into its block of M, and for each asked
   client also held by L (h_L = 1) the compute parties subtract that client's part of B:
   M_LL -= (h_L w x_L)^T x_L. So every client of the group counts exactly once:
   M = sum over clients of x x^T.
6. Suppression in MPC: keep = [M >= min_cohort]; the recipient receives (M * keep, keep),
   nothing else. Cells below min_cohort (zero included) show as suppressed.

Adversary model: semi-honest, honest majority among the three compute parties (yinji.mpc),
plus the ledger's assumptions (a lookup party colludes with no other party; see
yinji.psi.ledger).

Leakage (beyond the output):
- the recipient: the L x L matrix with cells below min_cohort replaced by "suppressed", and
  each company's product-line names (the axes); no per-client data, not which company holds
  which client, no company's client count.
- a company that is neither compute party nor recipient: every company's product-line
  names, nothing else (it receives key fingerprints and uniformly random group elements of
  the OPRF chain of its own IDs; test: its view is the same, up to fresh randomness,
  whatever the other companies hold).
- every compute party: each company's product-line names and number of distinct clients,
  and the ledger's leakage per lookup (batch size, K positions per client).
- the lookup party L (compute[0]): for each client of a company Q != L (a pseudonym, in an
  order only Q knows), how many companies hold it, not which (the ledger's requester sends
  each client's K points in a fresh random order); nothing linkable to an ID.
- the other two compute parties: the ledger's positions only (padded to K per client).
- across runs: nothing links, the keys are fresh each run. Suppression is per cell: a
  recipient who gets runs over changing data can difference the published cells.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from yinji.crypto.prg import Prg, fresh_seed
from yinji.ids import normalize
from yinji.mpc import Session, SharedTensor, stack
from yinji.mpc.inputs import receive_output, reveal_outside
from yinji.net.channel import Party
from yinji.psi import ledger as lg

MAX_LINE_CHARS = 60
MAX_LINES = 48        # all companies together (+ one column per company: the ledger's 64)
MAX_CLIENTS = 1_000_000                   # per company


class HeatmapError(ValueError):
    """Input or a peer's message that cannot be used; the message names the problem."""


# -- local preparation ------------------------------------------------------------------------

def holdings(ids: Sequence[Any], lines: Sequence[Any],
             what: str = "holdings") -> tuple[list[str], list[str], np.ndarray]:
    """(distinct normalised client IDs, sorted product lines, 0/1 matrix clients x lines)
    from one company's rows. Empty IDs or product lines are refused by row number."""
    if len(ids) != len(lines):
        raise HeatmapError(f"{what}: {len(ids)} IDs but {len(lines)} product lines")
    norm, names = [], []
    for i, (x, p) in enumerate(zip(ids, lines, strict=True)):
        n = normalize("" if x is None else x, kind="id")
        name = "" if p is None else " ".join(str(p).split())
        if not n:
            raise HeatmapError(f"{what}: row {i + 1} has an empty client ID")
        if not name:
            raise HeatmapError(f"{what}: row {i + 1} has an empty product line")
        if len(name) > MAX_LINE_CHARS:
            raise HeatmapError(f"{what}: row {i + 1}: product line longer than "
                               f"{MAX_LINE_CHARS} characters")
        norm.append(n)
        names.append(name)
    clients = sorted(set(norm))
    product_lines = sorted(set(names))
    if len(product_lines) > MAX_LINES:
        raise HeatmapError(f"{what}: {len(product_lines)} product lines, at most {MAX_LINES}")
    if len(clients) > MAX_CLIENTS:
        raise HeatmapError(f"{what}: {len(clients)} clients, at most {MAX_CLIENTS}")
    row = {c: i for i, c in enumerate(clients)}
    col = {p: j for j, p in enumerate(product_lines)}
    x = np.zeros((len(clients), len(product_lines)), np.int64)
    x[[row[n] for n in norm], [col[p] for p in names]] = 1
    return clients, product_lines, x


def labels(lines: dict[str, list[str]]) -> list[str]:
    """Axis labels 'company: product line', companies sorted, then lines sorted."""
    return [f"{c}: {p}" for c in sorted(lines) for p in lines[c]]


def plaintext(inputs: dict[str, tuple[Sequence[Any], Sequence[Any]]]
              ) -> tuple[list[str], np.ndarray]:
    """The plaintext twin: (labels, full L x L matrix of distinct clients holding both)."""
    per = {c: holdings(ids, lines, c) for c, (ids, lines) in inputs.items()}
    axis = labels({c: per[c][1] for c in per})
    holders: list[set[str]] = []
    for c in sorted(per):
        clients, lines, x = per[c]
        holders += [{clients[i] for i in np.flatnonzero(x[:, j])} for j in range(len(lines))]
    m = np.array([[len(a & b) for b in holders] for a in holders], np.int64)
    return axis, m.reshape(len(axis), len(axis))


def suppress(m: np.ndarray, min_cohort: int) -> np.ndarray:
    """Plaintext twin of step 6: an object matrix with None where m < min_cohort."""
    out = m.astype(object)
    out[m < min_cohort] = None
    return out


# -- messages ---------------------------------------------------------------------------------

def _send(party: Party, to: str, obj: dict[str, Any]) -> None:
    party.channel(to).send_bytes(json.dumps(obj, sort_keys=True).encode("utf-8"))


def _receive(party: Party, sender: str, with_count: bool) -> tuple[list[str], int]:
    raw = party.channel(sender).recv_bytes()
    try:
        obj = json.loads(raw.decode("utf-8")) if isinstance(raw, bytes) and len(raw) < 1 << 16 \
            else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        obj = None
    lines = obj.get("lines") if isinstance(obj, dict) else None
    count = obj.get("clients", -1) if isinstance(obj, dict) else -1
    ok = (isinstance(lines, list) and all(isinstance(p, str) and 0 < len(p) <= MAX_LINE_CHARS
                                          for p in lines)
          and lines == sorted(set(lines)) and len(lines) <= MAX_LINES)
    if ok and with_count:
        ok = isinstance(count, int) and not isinstance(count, bool) \
            and 0 <= count <= MAX_CLIENTS and (count == 0) == (not lines)
    if not ok:
        raise HeatmapError(f"{sender} sent a malformed product-line list or client count")
    return lines, count if with_count else 0  # type: ignore[return-value]


def _exchange(party: Party, companies: Sequence[str], compute: Sequence[str], recipient: str,
              mine: tuple[list[str], int] | None) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Step 1: each company's lines to every participant, its client count to the compute
    parties. Returns (lines per company, counts per company (compute parties; else {}))."""
    me = party.name
    everyone = sorted({*companies, recipient} - {me})
    if mine is not None:
        for c in everyone:
            _send(party, c, {"lines": mine[0], **({"clients": mine[1]} if c in compute else {})})
    lines: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for c in companies:
        if c == me:
            assert mine is not None
            lines[c], sizes[c] = mine
        else:
            lines[c], sizes[c] = _receive(party, c, with_count=me in compute)
    total = sum(map(len, lines.values()))
    if total == 0:
        raise HeatmapError("no company has any rows: nothing to count")
    if total > MAX_LINES:
        raise HeatmapError(f"{total} product lines across the companies; at most "
                           f"{MAX_LINES} fit one run")
    return lines, (sizes if me in compute else {})


# -- the joint computation --------------------------------------------------------------------

def joint_heatmap(party: Party, companies: Sequence[str], compute: Sequence[str],
                  recipient: str, rows: tuple[Sequence[Any], Sequence[Any]] | None = None, *,
                  min_cohort: int = 5, workers: int | None = None, progress: Any = None
                  ) -> tuple[list[str], np.ndarray] | None:
    """Run by every company (with its `rows` = (ids, product_lines)) and by the recipient.
    Returns (labels, L x L object matrix with None where suppressed) at the recipient, else
    None. `compute`: three of `companies`, in session order."""
    me = party.name
    companies, compute = sorted(companies), list(compute)
    k = len(companies)
    if len(set(compute)) != 3 or not set(compute) <= set(companies):
        raise HeatmapError(f"compute must be three distinct companies of the run, got {compute}")
    if (me in companies) != (rows is not None):
        raise HeatmapError(f"{me}: companies, and only they, pass their rows")
    if not isinstance(min_cohort, int) or min_cohort < 1:
        raise HeatmapError(f"min_cohort must be a whole number of at least 1, got {min_cohort!r}")
    step = progress or (lambda f, s: None)
    step(0.05, "preparing this company's holdings")
    mine = ids = x = None
    if rows is not None:
        ids, own, x = holdings(*rows, what=f"{me}'s holdings")
        mine = (own, len(ids))
    lines, sizes = _exchange(party, companies, compute, recipient, mine)
    axis = labels(lines)
    session = Session(party, compute) if me in compute else None
    m = None
    if me in companies:
        assert ids is not None and x is not None
        width = len(axis) + k   # the lines of every company, then one "held here" per company
        offset = sum(len(lines[c]) for c in companies if c < me)
        values = np.zeros((len(ids), width), np.int64)
        values[:, offset:offset + x.shape[1]] = x
        values[:, len(axis) + companies.index(me)] = 1
        m = _count(party, companies, compute, sizes, lines, ids, values, x, session,
                   workers, step)
    step(0.9, "opening the suppressed matrix to the recipient")
    opened = None
    if session is not None:
        assert m is not None
        keep = m >= min_cohort
        out = stack([m * keep, keep], 0)
        if recipient in compute:
            opened = out.reveal_to(recipient)
        else:
            reveal_outside(out, recipient)
    elif me == recipient:
        opened = receive_output(party, compute, frac_bits=0)
    if me != recipient:
        return None
    assert opened is not None
    if opened.shape != (2, len(axis), len(axis)) or not np.isin(opened[1], (0, 1)).all():
        raise HeatmapError("the compute parties opened a malformed matrix")
    shown = opened[0].astype(object)
    shown[opened[1] == 0] = None
    return axis, shown


def _count(party: Party, companies: list[str], compute: list[str], sizes: dict[str, int],
           lines: dict[str, list[str]], ids: list[str], values: np.ndarray, own: np.ndarray,
           session: Session | None, workers: int | None, step: Any) -> SharedTensor | None:
    """Steps 3-5, run by every company: the compute parties' shares of the pair counts
    (None at a company outside compute). `own`: this company's clients x own lines."""
    me, k = party.name, len(companies)
    lp = compute[0]                                          # the ledger's lookup party L
    n_lines = sum(map(len, lines.values()))
    lo = sum(len(lines[c]) for c in companies if c < lp)     # L's block of lines
    hi = lo + len(lines[lp])
    held_l = n_lines + companies.index(lp)
    askers = [c for c in companies if c != lp]
    step(0.15, "building the ledger")
    dummies = sum(sizes[c] for c in askers) * (k - 1) if session is not None else 0
    led = lg.build(party, lg.Roles(tuple(companies), tuple(compute), lp), ids, values,  # type: ignore[arg-type]
                   session=session, dummies=dummies, workers=workers)
    total = None
    if session is not None:   # step 5's first term: L's own pair counts, shared by L
        local = own.T @ own if me == lp else None
        block = SharedTensor.share(session, local, lp, frac_bits=0, shape=(hi - lo, hi - lo))
        total = _embed(block, lo, n_lines)
    for i, q in enumerate(askers):
        if session is None and me != q:
            continue
        n = sizes[q] if session is not None else len(ids)
        if n == 0:            # nothing to look up; every side knows the count is zero
            continue
        step(0.4 + 0.5 * i / len(askers), f"counting the clients of {q}")
        asked = None
        if me == q:   # a secret random order: the lookup party sees the batch in this order
            order = np.argsort(Prg(fresh_seed()).uint64(n), kind="stable")
            asked = [ids[j] for j in order]
        got = lg.lookup(party, led, q, asked, max_batch=n, workers=workers)
        if session is None:
            continue
        tot = SharedTensor(session, lg.totals(got), 0)       # (n, L + K): x, then h
        x = tot[:, :n_lines]
        w = None                          # 1 unless an earlier asker holds the client too
        for c in askers[:i]:
            free = 1 - tot[:, n_lines + companies.index(c)]
            w = free if w is None else w * free
        y = x if w is None else x * w.reshape(n, 1)
        total = total + y.T @ x
        if hi > lo:   # step 5: these clients' part of L's own counts was in `block`
            seen = y[:, lo:hi] * tot[:, held_l].reshape(n, 1)
            total = total - _embed(seen.T @ x[:, lo:hi], lo, n_lines)
    return total


def _embed(block: SharedTensor, at: int, size: int) -> SharedTensor:
    """The (b, b) shared block at rows and columns at..at+b of a (size, size) zero matrix
    (local: zero padding of each share component is a sharing of the padded matrix)."""
    b = block.shape[0]
    pad = ((at, size - at - b), (at, size - at - b))
    return SharedTensor(block.session, (np.pad(block.shares[0], pad),
                                        np.pad(block.shares[1], pad)), 0)
