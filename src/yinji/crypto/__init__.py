"""Primitives: thin wrappers over audited libraries (OpenSSL via `cryptography`, libsodium)."""
