"""The node runtime (DESIGN.md, runtime layer): identity and peers, data catalog, jobs with
approvals, tamper-evident audit, metadata store, REST API and the TLS data plane.

A `yinji.node.node.Node` is built explicitly from a home folder; nothing runs at import."""
