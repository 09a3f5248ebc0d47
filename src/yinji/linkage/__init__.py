"""Privacy-preserving record linkage: keyed Bloom-filter encodings (encoding.py), keyed
blocking (blocking.py), linkage-unit matching (match.py), MPC matching (mpc_match.py) and
the joint AML step on the links (aml.py)."""
