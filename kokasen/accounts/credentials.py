"""Generated passwords that are never stored in plain text, yet can be re-sent after a crash.

When an account gets a password (import, reissue), ``password_issue`` draws a random nonce,
derives the password as HMAC-SHA256(CREDENTIALS_KEY, nonce), sets its hash on the user and
returns the nonce. The outbox row keeps only the nonce (``OutboxMessage.secret_nonce``); the
sender derives the same password again when it talks to the SMTP server and erases the nonce
once the server has accepted the message. A sender killed part way therefore re-sends the
*same* password, and a copy of the database alone (without the key) reveals no password.

Hashing: the generated password carries about 117 bits of entropy, beyond any guessing, so key
stretching adds nothing to its safety; Argon2 with Django's parameters costs 0.2 s per hash
(6 minutes for 1,788 accounts). Generated passwords are therefore hashed with PBKDF2-SHA256 at
a low iteration count (a hasher in PASSWORD_HASHERS, so Django verifies it), and Django
re-hashes them with Argon2, the preferred hasher, at the first successful login. Passwords
people choose always get Argon2 (``set_password``).
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

# No 0/O/o, 1/l/I: read from a printed e-mail without guessing. 54 symbols.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"
LENGTH = 20  # 54**20 ≈ 2**115
NONCE_VERSION = "v1"


class GeneratedPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 with few iterations, for generated high-entropy passwords only.

    Same algorithm name as Django's PBKDF2 hasher (the iteration count is part of the hash),
    so the hasher in PASSWORD_HASHERS verifies it and flags it for upgrade to Argon2.
    """

    iterations = 1_000


class CredentialKeyChanged(Exception):
    """The nonce was made with another CREDENTIALS_KEY: its password cannot be derived."""


def _key() -> bytes:
    return settings.CREDENTIALS_KEY.encode()


def key_id() -> str:
    """A short fingerprint of the key, stored with each nonce to notice a changed key."""
    return hmac.new(_key(), b"kokasen-credentials-key-id", hashlib.sha256).hexdigest()[:8]


def new_nonce() -> str:
    return f"{NONCE_VERSION}:{key_id()}:{secrets.token_urlsafe(24)}"


def derive_password(nonce: str) -> str:
    version, kid, _ = (nonce.split(":", 2) + ["", ""])[:3]
    if version != NONCE_VERSION or not hmac.compare_digest(kid, key_id()):
        raise CredentialKeyChanged("CREDENTIALS_KEY has changed since this password was issued")
    number = int.from_bytes(hmac.new(_key(), f"kokasen-password:{nonce}".encode(), hashlib.sha256).digest(), "big")
    chars = []
    for _ in range(LENGTH):  # 2**256 ≫ 54**20: the modulo bias is negligible
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def password_issue(user) -> str:
    """Give ``user`` a new generated password (hash only, not saved); return its nonce."""
    nonce = new_nonce()
    user.password = make_password(derive_password(nonce), hasher=GeneratedPasswordHasher())
    user.password_issued = True
    return nonce
