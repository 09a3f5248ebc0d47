"""Keyword PIR with database privacy (OPRF + SimplePIR) and the query alliance."""
