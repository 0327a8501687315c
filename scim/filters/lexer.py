"""Tokens and literals of SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2, RFC 7159).

The tokenizer splits the text into parentheses, brackets, JSON strings and words.  A word is then read by the
parser as a keyword, a JSON number (:func:`_number`) or an attribute path (:func:`_attr_path_from_token`).
String and number literals are decoded here and nowhere else, which is why the refusals of NUL, lone
surrogates and out-of-range numbers live here.  The grammar and the decisions behind these rules are in
:mod:`scim.filters.parser`'s docstring.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from scim.filters.syntax import MAX_NUMBER_EXPONENT, RFC_SCHEMA_URNS, AttrPath, FilterSyntaxError

_ATTRNAME_RULE: Final = (
    "attribute names start with a letter and contain only letters, digits, '-' and '_' "
    "(or are '$ref'), with at most one '.' before a sub-attribute"
)

_WHITESPACE: Final = " \t\r\n"
_WORD_RE: Final = re.compile(r'[^ \t\r\n()\[\]"]+')
_WS_RE: Final = re.compile(r"[ \t\r\n]+")
_STRING_CHUNK_RE: Final = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]+')
_HEX4_RE: Final = re.compile(r"[0-9A-Fa-f]{4}")
_NUMBER_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_ATTRNAME: Final = r"(?:[A-Za-z][A-Za-z0-9_-]*|\$[Rr][Ee][Ff])"
_ATTRNAME_RE: Final = re.compile(_ATTRNAME)
_ATTR_RE: Final = re.compile(rf"({_ATTRNAME})(?:\.({_ATTRNAME}))?")
# RFC 8141: "urn:" NID ":" NSS, with the NID 2-32 letters/digits/hyphens; the NSS may contain ':'.
_URN_RE: Final = re.compile(r"[Uu][Rr][Nn]:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9](?::[A-Za-z0-9._~%!$&'*+,;=@/-]+)+")
_VERSION_RE: Final = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_SIMPLE_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_RFC_SCHEMA_URNS_FOLDED: Final = frozenset(urn.casefold() for urn in RFC_SCHEMA_URNS)


# --------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "[", "]", "string", "word" or "end"
    text: str  # source text of the token ("" for "end")
    pos: int
    space_before: bool
    value: str | None = None  # decoded value of a "string" token


def _show(text: str) -> str:
    """Quote a token for an error message, escaping oddities and shortening long ones."""
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)


def _tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens, decoding JSON strings (RFC 7159 §7) along the way."""
    tokens: list[_Token] = []
    pos = 0
    length = len(text)
    while True:
        match = _WS_RE.match(text, pos)
        space_before = match is not None
        if match:
            pos = match.end()
        if pos >= length:
            tokens.append(_Token("end", "", length, space_before))
            return tokens
        char = text[pos]
        previous = tokens[-1] if tokens else None
        if char in "()[]":
            tokens.append(_Token(char, char, pos, space_before))
            pos += 1
        elif char == '"':
            value, end = _scan_string(text, pos)
            token = _Token("string", text[pos:end], pos, space_before, value)
            _check_separated(previous, token)
            tokens.append(token)
            pos = end
        else:
            word = _WORD_RE.match(text, pos)
            assert word is not None  # any other character starts a word
            token = _Token("word", word.group(), pos, space_before)
            _check_separated(previous, token)
            tokens.append(token)
            pos = word.end()


def _check_separated(previous: _Token | None, token: _Token) -> None:
    """RFC 7644 separates words, strings and numbers with SP; reject ``eq"x"`` and ``"x"and``."""
    if previous is not None and previous.kind in ("word", "string") and not token.space_before:
        raise FilterSyntaxError(
            f"missing whitespace between {_show(previous.text)} and {_show(token.text)} at position {token.pos}",
            position=token.pos,
            token=token.text,
        )


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """Decode the JSON string starting at ``text[start] == '"'``; return (value, end offset)."""
    parts: list[str] = []
    pos = start + 1
    length = len(text)
    while True:
        chunk = _STRING_CHUNK_RE.match(text, pos)
        if chunk:
            parts.append(chunk.group())
            pos = chunk.end()
        if pos >= length:
            raise FilterSyntaxError(
                f"unterminated string starting at position {start}; a closing '\"' is missing",
                position=start,
                token=text[start:],
            )
        char = text[pos]
        if char == '"':
            return "".join(parts), pos + 1
        if char == "\\":
            escape = text[pos + 1 : pos + 2]
            if escape in _SIMPLE_ESCAPES:
                parts.append(_SIMPLE_ESCAPES[escape])
                pos += 2
            elif escape == "u":
                code = _hex4(text, pos)
                if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", pos + 6):
                    low = _hex4(text, pos + 6)
                    if 0xDC00 <= low <= 0xDFFF:
                        parts.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                        pos += 12
                        continue
                if 0xD800 <= code <= 0xDFFF:
                    raise FilterSyntaxError(
                        f"unpaired surrogate escape {_show(text[pos : pos + 6])} in string at position {pos}",
                        position=pos,
                        token=text[pos : pos + 6],
                    )
                if code == 0:
                    raise FilterSyntaxError(
                        f"NUL character escape {_show(text[pos : pos + 6])} in string at position {pos}; "
                        "no attribute value can contain U+0000",
                        position=pos,
                        token=text[pos : pos + 6],
                    )
                parts.append(chr(code))
                pos += 6
            elif escape == "":
                raise FilterSyntaxError(
                    f"unterminated string starting at position {start}; a closing '\"' is missing",
                    position=start,
                    token=text[start:],
                )
            else:
                raise FilterSyntaxError(
                    f"invalid escape {_show(text[pos : pos + 2])} in string at position {pos}; "
                    'valid escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX',
                    position=pos,
                    token=text[pos : pos + 2],
                )
        elif ord(char) < 0x20:
            raise FilterSyntaxError(
                f"unescaped control character U+{ord(char):04X} in string at position {pos}; "
                "control characters must be written as escapes such as \\n or \\u001f",
                position=pos,
                token=char,
            )
        else:  # a lone surrogate code point in the input
            raise FilterSyntaxError(
                f"invalid character U+{ord(char):04X} (a lone surrogate) in string at position {pos}",
                position=pos,
                token=char,
            )


def _hex4(text: str, pos: int) -> int:
    """Value of the ``\\uXXXX`` escape at ``pos``; ``int(x, 16)`` alone would accept '1_2f'."""
    digits = text[pos + 2 : pos + 6]
    if not _HEX4_RE.fullmatch(digits):
        raise FilterSyntaxError(
            f"invalid unicode escape {_show(text[pos : pos + 6])} in string at position {pos}; "
            "expected \\u followed by 4 hexadecimal digits",
            position=pos,
            token=text[pos : pos + 6],
        )
    return int(digits, 16)


# --------------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------------


def _number(text: str, pos: int, *, is_integer: bool) -> int | Decimal:
    """Convert a JSON number (RFC 7159 §6), within the range every database can compare (see
    :data:`MAX_NUMBER_EXPONENT`); others are rejected instead of raising ValueError or failing in SQL."""
    try:
        value = int(text) if is_integer else Decimal(text)
    except (ValueError, InvalidOperation):
        value = None
    exponent = Decimal(value).adjusted() if value else 0
    if value is None or exponent >= MAX_NUMBER_EXPONENT:
        raise FilterSyntaxError(
            f"number {_show(text)} at position {pos} is too large; numbers in a filter are below "
            f"1e{MAX_NUMBER_EXPONENT} in magnitude",
            position=pos,
            token=text,
        )
    if exponent < -MAX_NUMBER_EXPONENT:
        raise FilterSyntaxError(
            f"number {_show(text)} at position {pos} is too small; numbers in a filter are 0 or at least "
            f"1e-{MAX_NUMBER_EXPONENT} in magnitude",
            position=pos,
            token=text,
        )
    return value


# --------------------------------------------------------------------------------------------------
# Attribute paths
# --------------------------------------------------------------------------------------------------


def _folded_urns(schema_urns: Iterable[str] | None) -> frozenset[str] | None:
    return None if schema_urns is None else frozenset(urn.casefold() for urn in schema_urns)


def _is_schema_urn(text: str, schema_urns: frozenset[str] | None) -> bool:
    """Whether ``text`` names a whole schema rather than ``urn:attr`` (RFC 7644 §3.5.2).

    With explicit ``schema_urns`` only those count.  Otherwise the RFC 7643 URNs count, and so does
    any URN shaped like them: a version segment (``2.0``) followed by a capitalised resource name
    (``User``); attribute names are camelCase by convention, so ``...:1.0:User:costCenter`` is not one.
    """
    folded = text.casefold()
    if schema_urns is not None:
        return folded in schema_urns
    if folded in _RFC_SCHEMA_URNS_FOLDED:
        return True
    if not _URN_RE.fullmatch(text):
        return False
    segments = text.split(":")
    last = segments[-1]
    return (
        len(segments) >= 4
        and _VERSION_RE.fullmatch(segments[-2]) is not None
        and "A" <= last[:1] <= "Z"
        and _ATTRNAME_RE.fullmatch(last) is not None
    )


def _attr_path_from_token(
    text: str, pos: int, *, allow_schema_urn: bool, schema_urns: frozenset[str] | None
) -> AttrPath:
    """Parse one word as ``[URI ":"] ATTRNAME ["." ATTRNAME]`` (RFC 7644 §3.4.2.2, §3.10)."""
    urn: str | None = None
    rest = text
    if ":" in text:
        if _is_schema_urn(text, schema_urns):
            if allow_schema_urn:
                return AttrPath(text, None, None)
            raise FilterSyntaxError(
                f"invalid attribute path {_show(text)} at position {pos}: it is a schema URN without an "
                "attribute name; append ':' and the attribute name",
                position=pos,
                token=text,
            )
        urn, _, rest = text.rpartition(":")
        if not _URN_RE.fullmatch(urn):
            raise FilterSyntaxError(
                f"invalid attribute path {_show(text)} at position {pos}: {_show(urn)} is not a valid "
                "schema URN (expected 'urn:<namespace>:<...>' before the last ':')",
                position=pos,
                token=text,
            )
    match = _ATTR_RE.fullmatch(rest)
    if match is None:
        raise FilterSyntaxError(
            f"invalid attribute path {_show(text)} at position {pos}; {_ATTRNAME_RULE}",
            position=pos,
            token=text,
        )
    return AttrPath(urn, match.group(1), match.group(2))
