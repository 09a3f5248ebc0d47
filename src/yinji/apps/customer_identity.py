"""One group identity per client for `customer-view`: the group customer number (GCN) where
two records both carry one, else the shared identity resolution of yinji.linkage.groups.

Protocol (owners = the companies, unit = a node without records and without the key):
  1. linkage.groups.group_owner / group_unit as in joint-aml: each owner learns a linkage
     group index per record and G;
  2. each owner sends the unit, for its records in a fresh private random order, the
     linkage group index and a keyed token of the GCN (BLAKE2b keyed with a subkey of the
     owners' linkage key; 0 = no GCN);
  3. the unit merges (`merge`): a record with a GCN belongs to the identity of its GCN
     (records with different GCNs are never joined, even where linkage joined them); a
     record without one joins the GCN identity of its linkage group if that group holds
     exactly one distinct GCN, else it stays with the GCN-less records of its linkage group
     (a group holding two or more GCNs is a conflict, counted); the unit numbers the
     identities in a random order and sends each owner the index of each record and N.

Adversary model: semi-honest; the unit does not know the key and colludes with no owner.
Leakage beyond groups.py: the unit learns, per record (in an order unrelated to the file),
its linkage group and keyed GCN token -- hence which records and linkage groups share a
GCN, and how many records carry one -- but not the GCN values (keyed tokens); owners learn
N (the number of identities) and which of their own records are one identity, nothing
about other owners' records (the numbering is random).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yinji.net.channel import Party
from yinji.net.expect import recv_array


def group_owner(*args: Any, **kw: Any):  # noqa: ANN201 - indirection for tests
    from yinji.linkage.groups import group_owner as fn

    return fn(*args, **kw)


def gcn_tokens(values: Sequence[str], key: bytes) -> np.ndarray:
    """Keyed uint64 token per group customer number; 0 where empty."""
    from yinji.linkage.encoding import subkey

    k = subkey(key, "yinji-apps/customer-view/gcn")
    out = np.zeros(len(values), np.uint64)
    for i, v in enumerate(values):
        if v:
            t = int.from_bytes(hashlib.blake2b(v.encode(), key=k, digest_size=8).digest(),
                               "little")
            out[i] = t or 1
    return out


@dataclass
class Merged:
    identities: list[np.ndarray]   # per owner, per row sent: identity index in [0, count)
    count: int
    gcn_identities: int            # identities carrying a GCN
    gcn_joins: int                 # GCN identities spanning two or more linkage groups
    conflicts: int                 # linkage groups holding two or more GCNs (split by GCN)


def merge(groups: Sequence[np.ndarray], tokens: Sequence[np.ndarray], linkage_count: int,
          relabel: bool = True) -> Merged:
    """The unit's merge of linkage groups and GCN tokens (see the module docstring)."""
    sizes = [len(g) for g in groups]
    g = np.concatenate(groups).astype(np.int64) if sizes else np.zeros(0, np.int64)
    t = np.concatenate(tokens).astype(np.uint64) if sizes else np.zeros(0, np.uint64)
    has = t != 0
    tu, cls = np.unique(t[has], return_inverse=True)
    u = len(tu)
    pairs = np.unique(g[has] * max(u, 1) + cls)
    pg, pc = pairs // max(u, 1), pairs % max(u, 1)
    per_group = np.bincount(pg, minlength=linkage_count)
    single = per_group[pg] == 1
    cls_of_group = np.full(linkage_count, -1, np.int64)
    cls_of_group[pg[single]] = pc[single]
    key = np.where(cls_of_group[g] >= 0, cls_of_group[g], u + g)
    key[has] = cls
    roots, dense = np.unique(key, return_inverse=True)
    count = len(roots)
    if relabel and count > 1:
        perm = np.argsort(np.frombuffer(secrets.token_bytes(8 * count), dtype=np.uint64),
                          kind="stable")
        dense = perm[dense]
    cuts = np.cumsum(sizes)[:-1]
    return Merged([d.astype(np.int64) for d in np.split(dense.reshape(-1), cuts)], count, u,
                  int((np.bincount(pc, minlength=u) >= 2).sum()), int((per_group >= 2).sum()))


def identity_owner(party: Party, records: Sequence[dict[str, str]], gcn: Sequence[str],
                   schema: Any, key: bytes, unit: str) -> tuple[np.ndarray, int]:
    """Data owner: the identity index of each of its records (file order) and N."""
    groups, _ = group_owner(party, records, schema, key, unit)
    tok = gcn_tokens(gcn, key)
    n = len(records)
    perm = np.argsort(np.frombuffer(secrets.token_bytes(8 * n), dtype=np.uint64),
                      kind="stable") if n else np.zeros(0, np.int64)
    ch = party.channel(unit)
    ch.send_array(groups[perm])
    ch.send_array(tok[perm])
    got = recv_array(ch, f"the identity indices of {n} records", np.int64, (n,))
    count = int(recv_array(ch, "the identity count", np.int64, (1,))[0])
    if n and (got.min() < 0 or got.max() >= count):
        raise ValueError(f"{unit} sent malformed identity indices")
    out = np.empty(n, np.int64)
    out[perm] = got
    return out, count


def identity_unit(party: Party, owners: Sequence[str], schema: Any) -> tuple[Any, Merged]:
    """The linkage unit: resolve (groups.py), merge with the GCN tokens, send each owner its
    records' identity indices and N. Returns (the linkage resolution, the merge)."""
    from yinji.linkage.groups import group_unit

    res = group_unit(party, owners, schema)
    gs, ts = [], []
    for o, mine in zip(owners, res.groups, strict=True):
        ch = party.channel(o)
        n = len(mine)
        g = recv_array(ch, f"the groups of {n} records", np.int64, (n,))
        t = recv_array(ch, f"the customer number tokens of {n} records", np.uint64, (n,))
        if n and (g.min() < 0 or g.max() >= res.count):
            raise ValueError(f"malformed group customer number tokens from {o}")
        gs.append(g)
        ts.append(t)
    merged = merge(gs, ts, res.count)
    for o, ident in zip(owners, merged.identities, strict=True):
        ch = party.channel(o)
        ch.send_array(ident)
        ch.send_array(np.array([merged.count], np.int64))
    return res, merged
