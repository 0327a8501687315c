"""API token format: `<prefix><32 base62 random chars><6 base62 checksum chars>`.

The shape follows GitHub's token format: a fixed prefix so secret scanners can recognise a leaked token, 190 bits
of randomness (32 characters of base62), and a CRC32 checksum so a mistyped or truncated token is refused without
touching the database. Only the SHA-256 of the token is stored: the token has enough entropy that a slow hash adds
nothing, and a fast hash keeps authentication to one indexed lookup.
"""

import hashlib
import secrets
import string
import zlib
from dataclasses import dataclass

from .conf import app_settings

ALPHABET = string.digits + string.ascii_letters  # base62
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6


class MalformedToken(ValueError):
    """The string cannot be one of our tokens (wrong prefix, length, characters or checksum)."""


def _base62(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 62)
        chars.append(ALPHABET[rem])
    return "".join(reversed(chars))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


@dataclass(frozen=True)
class GeneratedToken:
    secret: str
    key_hash: str
    hint: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> GeneratedToken:
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    secret = f"{app_settings.TOKEN_PREFIX}{random_part}{_checksum(random_part)}"
    return GeneratedToken(secret=secret, key_hash=hash_token(secret), hint=secret[-4:])


def check_token_format(token: str) -> None:
    """Raise MalformedToken unless `token` has our prefix, length, alphabet and a valid checksum."""
    prefix = app_settings.TOKEN_PREFIX
    if not token.startswith(prefix):
        raise MalformedToken(f"the token does not start with {prefix!r}")
    body = token[len(prefix) :]
    if len(body) != RANDOM_LENGTH + CHECKSUM_LENGTH:
        raise MalformedToken("the token has the wrong length")
    if any(c not in ALPHABET for c in body):
        raise MalformedToken("the token contains invalid characters")
    random_part, checksum = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    if not secrets.compare_digest(_checksum(random_part), checksum):
        raise MalformedToken("the token checksum is wrong (mistyped or truncated token)")
