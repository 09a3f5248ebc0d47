"""REST routes that change whom this node trusts: add (or replace) and remove a peer. They
take effect at once (`Node.sync_peers`): the next data-plane handshake trusts the new
certificate, the next proposal may name the peer.

Role `admin`: trusting a peer is node administration, not operation or approval -- a peer can
propose jobs to this node and its signatures count as approvals -- so neither an operator nor
an approver token may do it. Admin tokens, like every token, are created only on the node's
machine (`yinji token add --role admin`). A new peer still gets no data: every job naming it
needs this node's approval, and the catalog's column policy names the peers it allows."""


import threading
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from yinji.node.admin import Admin
from yinji.node.api.schemas import PeerPublic
from yinji.node.config import ConfigError, NodeConfig
from yinji.node.node import Node

BUNDLE_FIELDS = ("name", "dataplane", "cert", "signing_key")


class PeerCreate(BaseModel):
    bundle: dict[str, Any] = Field(description="the peer's identity bundle (yinji node bundle)")
    fingerprint: str = Field(description="its certificate's SHA-256, obtained out of band")


def _public(p: Any) -> dict[str, Any]:
    return {"name": p.name, "dataplane": p.dataplane, "fingerprint": p.fingerprint,
            "signing_key": p.signing_key, "api": p.api, "pir": p.pir}


def add_peer_routes(app: FastAPI, node: Node, Admin_: Any) -> None:  # noqa: N803
    lock = threading.Lock()   # one change of node.yaml at a time from this process

    def admin(who: dict[str, Any]) -> Admin:
        # a fresh config: the file's settings are saved back, not this process's overrides
        return Admin(NodeConfig.load(node.home), node.store, node.audit, node.catalog,
                     node.tokens, who["name"])

    @app.post("/peers", response_model=PeerPublic, status_code=201)
    def add_peer(body: PeerCreate, who: Admin_) -> dict[str, Any]:
        missing = [f for f in BUNDLE_FIELDS if not isinstance(body.bundle.get(f), str)]
        if missing:
            raise HTTPException(422, f"bundle: needs {', '.join(missing)} (as text)")
        with lock:
            try:
                peer = admin(who).add_peer(body.bundle, body.fingerprint)
            except ConfigError as exc:
                raise HTTPException(422, str(exc)) from None
            node.sync_peers()
        return _public(peer)

    @app.delete("/peers/{name}", response_model=list[PeerPublic])
    def remove_peer(name: str, who: Admin_) -> list[dict[str, Any]]:
        with lock:
            try:
                admin(who).remove_peer(name)
            except ConfigError as exc:
                raise HTTPException(404, str(exc)) from None
            node.sync_peers()
        return [_public(p) for p in sorted(node.cfg.peers.values(), key=lambda p: p.name)]
