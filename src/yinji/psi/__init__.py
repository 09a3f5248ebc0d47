"""Private set intersection: key preparation, two-party ECDH-PSI and cardinality, multi-party
PSI, unbalanced PSI, and the hidden-intersection join into the MPC engine.

Adversary models and leakage: each module's docstring and docs/SECURITY.md.
"""
