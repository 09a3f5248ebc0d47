"""REST API schemas (pydantic): `...Create` for requests, `...Public` for responses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class InputSpec(BaseModel):
    dataset: str = Field(description="dataset id in that node's catalog")
    columns: list[str] = Field(description="columns of that dataset the protocol uses")


class JobCreate(BaseModel):
    protocol: str = Field(examples=["mpc.aggregate", "psi.intersect", "psi.cardinality",
                                    "model.secureboost", "model.sslr"])
    inputs: dict[str, InputSpec] = Field(description="node name -> its input")
    params: dict[str, Any] = Field(default_factory=dict)
    recipients: list[str] = Field(description="nodes that receive the result")
    helpers: list[str] = Field(default_factory=list, description=(
        "nodes that take part without input or result (model.secureboost: one helper "
        "selects the assisted mode; model.sslr: exactly one, the third MPC party)"))


class ApprovalPublic(BaseModel):
    node: str
    decision: str
    hash: str
    record: dict[str, Any]
    signature: str


class LocalInputPublic(BaseModel):
    """This node's own input to a job, as its approvers see it (never sent to peers)."""

    dataset: str
    kind: str | None = None
    location: str | None = Field(None, description="as registered: file path or sql source")
    path: str | None = Field(None, description="the file actually read (symlinks resolved)")
    table: str | None = None
    columns: list[str] = Field(default_factory=list)
    revision: int | None = None
    updated: float | None = Field(None, description="last explicit update of the dataset")
    rows: int | None = Field(None, description="data rows now; counted while the job is "
                                               "proposed, null otherwise")
    problem: str | None = Field(None, description="why the source cannot be read, if so")


class JobPublic(BaseModel):
    id: str
    protocol: str
    proposer: str
    state: Literal["proposed", "approved", "running", "succeeded", "failed", "cancelled",
                   "rejected", "expired"]
    reason: str
    progress: float
    stage: str
    spec: dict[str, Any]
    spec_hash: str
    approvals: list[ApprovalPublic]
    approvals_hash: str
    has_result: bool
    created: float
    updated: float
    local_input: LocalInputPublic | None = Field(None, description=(
        "this node's input: dataset location and, while proposed, its row count"))
    sql_checks: list[str] | None = Field(None, description=(
        "sql.query: what approvers see -- the query, recipients, minimum group size and this "
        "node's column-policy check per column use"))


class DecisionCreate(BaseModel):
    reason: str = ""


class ResultPublic(BaseModel):
    job_id: str
    result: dict[str, Any]
    result_hash: str


class PolicyRuleModel(BaseModel):
    columns: list[str] = ["*"]
    peers: list[str] = ["*"]
    protocols: list[str] = ["*"]
    sql: str | dict[str, Any] | None = Field(None, description=(
        "secure SQL column control for these columns and recipients (peers): plaintext, "
        "plaintext_after_join, plaintext_after_compare, encrypted_only, or "
        "{rule: plaintext_after_aggregate, min_group, aggregates, dp_epsilon, bounds}"))


class DatasetCreate(BaseModel):
    id: str = Field(max_length=200)
    kind: Literal["csv", "parquet", "sql"]
    location: str = Field(max_length=4096, description=(
        "csv/parquet: a file inside the node's data roots (<home>/data and data_roots in "
        "node.yaml), absolute or relative to the node home; sql: the name of one of the "
        "node's sql_sources (never a URL)"))
    table: str | None = Field(None, max_length=200)
    schema_: dict[str, Literal["string", "float", "int"]] = Field(alias="schema")
    policy: list[PolicyRuleModel] = Field(default_factory=list)


class DatasetPublic(BaseModel):
    id: str
    kind: str
    schema_: dict[str, str] = Field(alias="schema")
    policy: list[PolicyRuleModel]
    revision: int = Field(description="1 when registered, + 1 on every explicit update")


class TokenPublic(BaseModel):
    id: str
    name: str
    role: str
    created: float
    expires: float | None
    revoked: float | None
    state: Literal["active", "expired", "revoked"]
    scopes: list[str] = Field(default_factory=list, description="caller tokens' endpoints")


class PeerPublic(BaseModel):
    name: str
    dataplane: str
    fingerprint: str
    signing_key: str
    api: str
    pir: dict[str, str] = Field(default_factory=dict,
                                description="its PIR services: service id -> HOST:PORT")
    cert_not_after: str = Field("", description="when its pinned certificate expires (UTC)")
    cert_warning: str = Field("", description="'' or e.g. 'expires in 12 days, on ...'")


class CertStatusPublic(BaseModel):
    name: str
    whose: str = Field(description="self (this node's certificate) or peer")
    fingerprint: str
    not_after: str
    seconds_left: int
    warning: str = Field(description="'' while more than cert_warn_days are left")


class NodePublic(BaseModel):
    name: str
    crypto_profile: str = "international"   # international | sm (yinji.crypto.profile)
    fingerprint: str
    signing_key: str
    dataplane: str
    schema_version: int
    protocols: dict[str, str]
    api_url: str = ""
    cert_warn_days: int = 30
    certificates: list[CertStatusPublic] = Field(default_factory=list)
    cert_warnings: list[str] = Field(default_factory=list,
                                     description="own or peer certificates expiring soon")


class AuditEntry(BaseModel):
    seq: int
    ts: float
    kind: str
    actor: str
    data: dict[str, Any]
    prev_hash: str
    hash: str
    signature: str


class VerifyPublic(BaseModel):
    ok: bool
    entries: int
    problems: list[str]
    head: str


class AnchorOutcome(BaseModel):
    ok: bool
    anchored: float | None = Field(None, description="the witness's time of acceptance")
    error: str = ""


class AnchorRoundPublic(BaseModel):
    seq: int = Field(description="the anchored head's sequence number (0: empty log)")
    hash: str
    time: float
    peers: dict[str, AnchorOutcome]
    error: str = ""


class AnchoredHead(BaseModel):
    node: str = Field(description="the node whose head this is")
    witness: str = Field(description="the node that stored and countersigned it")
    seq: int
    hash: str
    node_signature: str
    witness_signature: str
    anchored: float


class AnchorPeerSummary(BaseModel):
    peer: str
    anchors: int
    last_seq: int
    last_anchored: float | None
    age: float | None = Field(description="seconds since the last accepted anchor")
    stale: bool | None = Field(description="witnessed heads only: no anchor for longer than "
                                           "stale_after (null when anchor_period is 0)")


class AnchorsPublic(BaseModel):
    node: str
    period: float
    stale_after: float | None
    witnessed: list[AnchorPeerSummary] = Field(description="peers' heads this node holds")
    receipts: list[AnchorPeerSummary] = Field(description="this node's heads held by peers")
    last_round: AnchorRoundPublic | None


class PeerAnchorCheck(BaseModel):
    status: Literal["ok", "none", "bad_signatures", "rollback", "fork", "unreachable"]
    anchors: int
    last_seq: int
    problems: list[str]


class PeerVerifyPublic(BaseModel):
    ok: bool
    local: VerifyPublic
    peers: dict[str, PeerAnchorCheck]
    problems: list[str]


class PirQueryCreate(BaseModel):
    keys: list[str] = Field(min_length=1, max_length=1000,
                            description="keys to look up (e.g. normalised ID numbers); "
                                        "members never see them")
    members: list[str] | None = Field(None, description="peers to ask (default: every peer "
                                                         "advertising a PIR service)")
    service: str | None = Field(None, description="PIR service id at the members (default: "
                                                  "each member's only one)")
    timeout: float = Field(30.0, gt=0, le=600, description="seconds for the whole query")
    key_kind: str | None = Field(None, description="normalise the keys first as the members' "
                                                   "lists are (yinji.ids kind; each member's own rule is applied anyway)")


class PirKeyResult(BaseModel):
    key: str
    hit: bool
    label: dict[str, Any] | str | None = Field(description="the label columns, or null")


class PirMemberAnswer(BaseModel):
    status: Literal["ok", "down", "timeout", "rate_limited", "error"]
    service: str
    version: str | None = Field(description="database version that answered (status ok)")
    seconds: float
    error: str | None
    results: list[PirKeyResult] | None = Field(description="per key, in order; null unless ok")


class PirQueryPublic(BaseModel):
    keys: int
    complete: bool = Field(description="every member answered (a miss is then a miss "
                                       "everywhere)")
    members: dict[str, PirMemberAnswer]


class PirServiceCreate(BaseModel):
    """A list to serve as a PIR service from this node's catalog (operator)."""

    id: str = Field(description="service id (letters, digits, . _ -)")
    dataset: str = Field(description="catalog dataset; its policy must allow protocol `pir`")
    key_column: str
    label_columns: list[str] = Field(min_length=1)
    port: int | Literal["auto"] = Field("auto", description='port, or "auto" for a free one')
    rate_limit: str = Field("1000/min", description="OPRF keys per peer: N/s, N/min, N/h, N/day")
    day_budget: int | None = Field(None, gt=0, description="keys per peer per day; a request "
                                                           "may then be a whole day's batch")
    key_kind: str = Field("auto", description="key normalisation (yinji.ids kind: auto, id, "
                                              "mobile, text, upper; or exact)")
    label_size: int | None = None


class PirServicePublic(BaseModel):
    id: str
    dataset: str
    key_column: str
    label_columns: list[str]
    address: str
    version: str
    records: int
    label_size: int
    buckets: int
    slots: int
    published: float
    clients: list[str] = Field(description="peers the column policy lets query it")
    rate_limit: str
    key_kind: str = Field("auto", description="how keys are normalised (yinji.ids kind, or "
                                              "exact); public, queriers apply it too")
    day_budget: int | None = None
    source: str = Field("node.yaml", description="node.yaml, or api (added at run time)")
    failed: str | None = Field(None, description="why a stored service is not served (it did "
                                                 "not build at start; refresh or remove it)")


class ModelPublic(BaseModel):
    """A model version's public metadata (the same at every party, but metrics only at the
    label holder); never a party's trees, thresholds or shares."""

    name: str
    version: int
    kind: str
    parties: list[str]
    features: dict[str, list[str]] = Field(description="party -> its feature columns")
    label_holder: str
    metrics: dict[str, float] = Field(description="validation metrics; empty except at the "
                                                  "label holder")
    job_id: str = Field(description="the training job")
    created: float
    params: dict[str, Any] = Field(description="datasets and ID columns per party, label "
                                               "column, training configuration, row counts")


class PredictCreate(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=10_000,
                           description="customer IDs to score; every model party learns them")
    version: int | None = Field(None, ge=1, description="default: the latest version here")
    timeout: float = Field(60.0, gt=0, le=600,
                           description="seconds to wait for the job; after that 202 and the "
                                       "scores become the job's result")


class PredictionPublic(BaseModel):
    job_id: str
    model: str
    version: int
    state: str
    reason: str
    n_ids: int
    ids: list[str] | None
    scores: list[float] | None = Field(description="probabilities, in the order of ids; "
                                                   "null until the job succeeded")


class AppInput(BaseModel):
    dataset: str
    role: str | None = Field(None, description="the app role this input plays (default: the "
                                                "app's only role)")
    columns: list[str] | dict[str, str] | None = Field(None, description=(
        "the dataset's columns for the role's columns: a list in the role's order, or "
        "{role column: dataset column}; columns not named are taken by the same name"))
    omit: list[str] | None = Field(None, description=(
        "optional role columns this company does not have (the app takes zeros)"))


class AppRunCreate(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, AppInput] = Field(description="node name -> the dataset it supplies")
    recipients: list[str] | None = Field(None, description="default: the app's recipients")
    compute: list[str] | None = Field(None, description="the three compute parties "
                                                         "(default: the app's choice)")
    private: dict[str, Any] | None = Field(None, description=(
        "this node's private input (e.g. the client IDs to check); stays on this node"))
