"""Seal small state at rest with a key derived from a secret that lives only in the env.

The database is not a secret store. Some state is still worth keeping across restarts,
such as a Bluesky session (its login call is limited to 300 a day). Sealed with a key
derived from the channel's app password, what the database holds is useless without
the environment, and a rotated password simply makes the old seal unreadable.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # cryptography loads on the first seal, not with the publishers
    from cryptography.fernet import Fernet

_ITERATIONS = 200_000


@functools.lru_cache(maxsize=32)
def _fernet(secret: str, context: str) -> Fernet:
    """Derive once per process: PBKDF2 is slow on purpose."""
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    salt = hashlib.sha256(f"syndbot-seal:{context}".encode()).digest()
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=_ITERATIONS)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(secret.encode())))


def seal(data: dict[str, Any], *, secret: str, context: str) -> str:
    """``data`` as an authenticated, encrypted token (ASCII)."""
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return _fernet(secret, context).encrypt(payload).decode("ascii")


def unseal(token: str, *, secret: str, context: str) -> dict[str, Any] | None:
    """The sealed data, or None when the token is damaged or the secret changed."""
    from cryptography.fernet import InvalidToken

    try:
        payload = _fernet(secret, context).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return None
    data = json.loads(payload)
    return data if isinstance(data, dict) else None
