"""Operator tokens: random bearer secrets of which the hub keeps only a hash.

A token is 32 random bytes, urlsafe base64. Because it is random and long, a plain sha256 is
enough to keep it (no salt or slow hash: there is no dictionary to guess from); a stolen
database does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh operator token, shown once to whoever creates the operator."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The stored form of ``token``: sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Whether ``token`` hashes to ``stored_hash``, in constant time."""
    return hmac.compare_digest(token_hash(token), stored_hash)
