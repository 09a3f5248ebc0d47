"""Group consolidated reporting (集团并表报送): total client assets per segment across the
companies, and how many clients hold more than a threshold across all of them together.

Each company holds a CSV of its clients' holdings keyed by the group-wide customer number
that the companies already share (a public group registry, so a client's row position is
public; which company holds what, and how much, is not).

Protocol: each company secret-shares (a) its per-segment asset totals and (b) its holdings
as a vector over the group registry (0 where the client is not its customer). In MPC the
parties add the three inputs, compare each client's group total with the threshold, and
add up the comparison bits. Only the per-segment group totals and the count are revealed.

Adversary model: semi-honest, honest majority among the three companies (yinji.mpc).
Leakage: every party learns the per-segment group totals and the number of clients above
the threshold — nothing about another company's figures, its clients, or any single
client's total (beyond what those aggregates imply, e.g. a segment with one client).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yinji.mpc import Session, SharedTensor

SEGMENTS = ("retail", "affluent", "private", "institutional")
COLUMNS = ("customer_id", "segment", "assets_cny")


class HoldingsError(ValueError):
    """A holdings file that cannot be used as it is; the message names the file and row."""


@dataclass(frozen=True)
class Holdings:
    """One company's input: assets per registry position and its per-segment totals."""

    by_client: np.ndarray        # float64, one entry per registry customer (0 if not a client)
    by_segment: np.ndarray       # float64, one entry per SEGMENTS
    clients: int


def read_registry(path: Path) -> list[str]:
    """The group customer registry: one customer number per line (header `customer_id`)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or rows[0] != ["customer_id"]:
        raise HoldingsError(f"{path}: registry must have the single column 'customer_id'")
    ids = [r[0].strip() for r in rows[1:] if r]
    if len(set(ids)) != len(ids):
        raise HoldingsError(f"{path}: duplicate customer numbers in the registry")
    return ids


def read_holdings(path: Path, registry: list[str]) -> Holdings:
    """Validate and load one company's holdings CSV (columns: customer_id, segment,
    assets_cny). Duplicate or unknown customer numbers, unknown segments, negative or
    non-numeric amounts are refused with the row number."""
    index = {cid: i for i, cid in enumerate(registry)}
    by_client = np.zeros(len(registry))
    by_segment = np.zeros(len(SEGMENTS))
    seen: set[str] = set()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise HoldingsError(f"{path}: missing column(s) {', '.join(missing)}; "
                                f"found {', '.join(reader.fieldnames or [])}")
        for line, row in enumerate(reader, start=2):
            cid = (row["customer_id"] or "").strip()
            if cid not in index:
                raise HoldingsError(f"{path}:{line}: customer {cid!r} is not in the group registry")
            if cid in seen:
                raise HoldingsError(f"{path}:{line}: duplicate customer {cid!r}")
            seen.add(cid)
            seg = (row["segment"] or "").strip()
            if seg not in SEGMENTS:
                raise HoldingsError(f"{path}:{line}: unknown segment {seg!r} "
                                    f"(expected one of {', '.join(SEGMENTS)})")
            try:
                amount = float(row["assets_cny"])
            except (TypeError, ValueError):
                raise HoldingsError(f"{path}:{line}: assets_cny {row['assets_cny']!r} "
                                    "is not a number") from None
            if not math.isfinite(amount) or amount < 0:
                raise HoldingsError(f"{path}:{line}: assets_cny must be a non-negative amount")
            by_client[index[cid]] = amount
            by_segment[SEGMENTS.index(seg)] += amount
    return Holdings(by_client, by_segment, len(seen))


@dataclass(frozen=True)
class GroupTotals:
    by_segment: dict[str, float]
    clients_over_threshold: int
    threshold: float


def group_totals(session: Session, mine: Holdings, threshold: float = 1_000_000.0) -> GroupTotals:
    """Run by each of the three companies with its own holdings; all learn the result.

    Rounds: 1 (inputs) + 10 (comparison) + 2 (reveals). Amounts are in CNY with the
    session's fixed-point precision (2^-16 CNY at the default), totals up to about 7e13.
    """
    size = mine.by_client.shape[0]
    inputs = np.concatenate([mine.by_segment, mine.by_client])
    parts = [SharedTensor.share(session, inputs if session.rank == r else None, r,
                                shape=(len(SEGMENTS) + size,)) for r in range(3)]
    total = parts[0] + parts[1] + parts[2]
    segments = total[: len(SEGMENTS)].reveal()
    over = (total[len(SEGMENTS):] > threshold).sum().reveal()
    return GroupTotals({s: float(round(v, 2)) for s, v in zip(SEGMENTS, segments, strict=True)},
                       int(over), threshold)


def plaintext_totals(holdings: list[Holdings], threshold: float = 1_000_000.0) -> GroupTotals:
    """The same figures computed in the clear (for checking the demo and tests)."""
    seg = sum(h.by_segment for h in holdings)
    per_client = sum(h.by_client for h in holdings)
    return GroupTotals({s: float(round(v, 2)) for s, v in zip(SEGMENTS, seg, strict=True)},
                       int((per_client > threshold).sum()), threshold)


def write_sample_data(directory: Path, companies: list[str], clients: int = 20000,
                      seed: int = 2026) -> None:
    """Generate a group registry and one holdings CSV per company (seeded sample data)."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    ids = [f"G{n:08d}" for n in range(1, clients + 1)]
    with open(directory / "registry.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id"])
        w.writerows([i] for i in ids)
    segment_of = rng.choice(len(SEGMENTS), size=clients, p=[0.7, 0.2, 0.08, 0.02])
    scale = np.array([5e4, 4e5, 3e6, 2e7])[segment_of]
    for k, company in enumerate(companies):
        holds = rng.random(clients) < [0.6, 0.35, 0.25][k % 3]
        amounts = np.round(rng.lognormal(0, 1.0, clients) * scale, 2)
        with open(directory / f"{company}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for i in np.flatnonzero(holds):
                w.writerow([ids[i], SEGMENTS[segment_of[i]], f"{amounts[i]:.2f}"])
