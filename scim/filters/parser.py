"""Strict parser for SCIM 2.0 filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2).

Why a hand-written parser: the filter text arrives straight from identity providers (Okta, Entra ID)
and from anyone holding a token, so it must be parsed strictly, with error messages a human can act
on, and with hard limits that keep hostile input from consuming memory or the Python stack.  A small
tokenizer plus a recursive-descent parser gives full control over all three, with no dependency.

The grammar implemented (RFC 7644 §3.4.2.2, Figure 1, and §3.5.2)::

    FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
    valuePath = attrPath "[" valFilter "]"
    valFilter = attrExp / logExp / *1"not" "(" valFilter ")"
    attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
    logExp    = FILTER SP ("and" / "or") SP FILTER
    compValue = false / null / true / number / string      ; JSON literals, RFC 7159
    compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
    attrPath  = [URI ":"] ATTRNAME *1subAttr
    ATTRNAME  = ALPHA *(nameChar)                          ; "$ref" is also accepted
    nameChar  = "-" / "_" / DIGIT / ALPHA
    subAttr   = "." ATTRNAME
    PATH      = attrPath / valuePath [subAttr]             ; PATCH "path", RFC 7644 §3.5.2

Decisions worth knowing:

* Keywords and operators (``and``, ``or``, ``not``, ``pr``, ``eq``..., ``true``, ``false``,
  ``null``) are matched case-insensitively (RFC 7644 §3.4.2.2); attribute names keep the case they
  were written in, because matching them case-insensitively is the evaluator's job (RFC 7643 §2.1).
* ``and`` binds tighter than ``or``; ``not`` must be followed by a parenthesised filter.
* A chain ``a and b and c ...`` is collected iteratively and stored as a *balanced* tree of binary
  :class:`And` / :class:`Or` nodes, so the tree depth grows with log2 of the chain length.  This keeps
  every consumer that recurses over the tree (evaluators, ``==``, ``repr``) far from Python's
  recursion limit.  Because ``and``/``or`` are associative, a parenthesised group of the same
  operator is merged into the surrounding chain: ``(a and b) and c`` and ``a and b and c`` give the
  same tree.  Operand order is always preserved (an in-order walk yields the operands as written).
* String literals are JSON strings (RFC 7159 §7) with two exceptions, both refused: an escaped NUL
  (``\\u0000``) and an unpaired surrogate escape (``\\ud800``).  JSON allows them, but no attribute can
  hold them (PostgreSQL's text and jsonb refuse NUL, UTF-8 has no surrogates), and literals are decoded
  here, after the request body's own check (scim.negotiation): this is the one place that sees them,
  for filters and PATCH paths alike.
* Numbers follow JSON syntax: integers become :class:`int`, numbers with a fraction or exponent
  become :class:`decimal.Decimal` (exact, so ``1.10`` is not silently rounded as a float would be).
  They are 0 or between 1e-1000 and 1e1000 in magnitude (:data:`MAX_NUMBER_EXPONENT`): beyond, no
  database compares them (PostgreSQL's numeric fails the statement).
* Attribute paths inside ``[...]`` are relative to the attribute before the bracket.  A value filter
  cannot contain another value filter, and ``emails[type eq "work"].value`` is only valid as a PATCH
  path, never inside a filter.
* Tokens that are words, strings or numbers must be separated by whitespace (RFC 7644 uses SP);
  runs of spaces, tabs, CR and LF are tolerated, and no whitespace is needed next to parentheses or
  brackets.
* Positions in error messages are 0-based character offsets into the text that was parsed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, TypeAlias

__all__ = [
    "COMPARE_OPERATORS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "MAX_NUMBER_EXPONENT",
    "RFC_SCHEMA_URNS",
    "And",
    "AttrPath",
    "CompValue",
    "Compare",
    "Expr",
    "FilterSyntaxError",
    "Not",
    "Or",
    "PatchPath",
    "Present",
    "ValuePath",
    "parse_attr_path",
    "parse_filter",
    "parse_patch_path",
    "to_string",
]

#: The comparison operators of RFC 7644 §3.4.2.2 Table 3, in the RFC's order.
COMPARE_OPERATORS: Final[tuple[str, ...]] = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")

#: Default cap on the length of a filter or path, in characters.
DEFAULT_MAX_LENGTH: Final = 4096

#: Default cap on nesting: each ``(``, ``not (`` and ``[`` opens one level.
DEFAULT_MAX_DEPTH: Final = 32

#: Numbers in filters are 0 or between 1e-1000 and 1e1000 in magnitude. PostgreSQL's numeric holds 1e131071 down to
#: 1e-16383 and fails the whole statement beyond ("value overflows numeric format"); no attribute value comes near
#: (JSON numbers stop at about 1.8e308 in practice, RFC 8259 §6), so the limit refuses nothing meaningful.
MAX_NUMBER_EXPONENT: Final = 1000

#: Schema URNs defined by RFC 7643 §8.7.1; a PATCH path equal to one of them names the whole schema.
RFC_SCHEMA_URNS: Final[frozenset[str]] = frozenset(
    {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    }
)

_OPERATOR_LIST: Final = ", ".join(COMPARE_OPERATORS)
_EXPECT_OPERATOR: Final = f"a comparison operator ({_OPERATOR_LIST}) or 'pr'"
_EXPECT_OPERAND: Final = "an attribute path, '(' or 'not ('"
_EXPECT_VALUE: Final = "a comparison value (a JSON string in double quotes, a number, true, false or null)"
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


class FilterSyntaxError(ValueError):
    """A filter or PATCH path does not follow RFC 7644 §3.4.2.2 / §3.5.2, or exceeds a safety limit.

    Why one class: callers turn it into a single HTTP 400 response (RFC 7644 §3.12) whose ``detail``
    is ``str(exc)``; ``scim_type`` already holds the matching ``scimType`` (``invalidFilter`` for
    filters, ``invalidPath`` for PATCH paths).  ``position`` is the 0-based character offset of the
    problem (``None`` when it concerns the whole text) and ``token`` the offending text, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        token: str | None = None,
        scim_type: str = "invalidFilter",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.token = token
        self.scim_type = scim_type


# --------------------------------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------------------------------

#: A comparison value as decoded from JSON (RFC 7644 §3.4.2.2 ``compValue``).
CompValue: TypeAlias = str | int | Decimal | bool | None


class _Node:
    """Shared by every AST node: render back to canonical filter (or path) text."""

    __slots__ = ()

    def to_string(self) -> str:
        """Render back to canonical RFC 7644 text."""
        return to_string(self)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return to_string(self)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AttrPath(_Node):
    """An attribute path ``[urn ":"] attr ["." sub_attr]`` (RFC 7644 §3.10).

    ``urn`` is the schema URN prefix (everything up to the last ':' before the attribute name) or
    ``None``.  ``attr`` is ``None`` only for a PATCH path that names a whole extension schema, such
    as ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`` (RFC 7644 §3.5.2); filters
    never produce that.  Names keep their original case.
    """

    urn: str | None
    attr: str | None
    sub_attr: str | None = None


@dataclass(frozen=True, slots=True)
class Compare(_Node):
    """``path op value`` with ``op`` one of :data:`COMPARE_OPERATORS`, lower-cased (RFC 7644 §3.4.2.2)."""

    path: AttrPath
    op: str
    value: CompValue


@dataclass(frozen=True, slots=True)
class Present(_Node):
    """``path pr``: the attribute has a non-empty value (RFC 7644 §3.4.2.2)."""

    path: AttrPath


@dataclass(frozen=True, slots=True)
class And(_Node):
    """``left and right`` (RFC 7644 §3.4.2.2).  Chains are stored as balanced trees, see the module doc."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or(_Node):
    """``left or right`` (RFC 7644 §3.4.2.2).  Chains are stored as balanced trees, see the module doc."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not(_Node):
    """``not (expr)`` (RFC 7644 §3.4.2.2)."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class ValuePath(_Node):
    """``path[filter]``: a complex multi-valued attribute filter (RFC 7644 §3.4.2.2 ``valuePath``).

    Attribute paths inside ``filter`` are relative to ``path`` (``type`` in ``emails[type eq "work"]``
    means ``emails.type`` of the same value).
    """

    path: AttrPath
    filter: Expr


#: Any filter expression node.
Expr: TypeAlias = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True, slots=True)
class PatchPath(_Node):
    """A PATCH ``path`` (RFC 7644 §3.5.2): ``attr``, then an optional ``[value_filter]`` and ``.sub_attr``.

    ``emails[type eq "work"].value`` gives ``attr=AttrPath(None, "emails")``, the bracketed filter in
    ``value_filter`` and ``sub_attr="value"``; ``name.givenName`` keeps its sub-attribute inside
    ``attr`` and leaves ``sub_attr`` ``None``.
    """

    attr: AttrPath
    value_filter: Expr | None = None
    sub_attr: str | None = None


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def to_string(node: Expr | AttrPath | PatchPath) -> str:
    """Render a node as canonical RFC 7644 §3.4.2.2 filter (or §3.5.2 path) text.

    Why: error messages and logs can show what was understood, and tests can check that
    ``parse_filter(to_string(parse_filter(x))) == parse_filter(x)``.  Keywords and operators are
    lower-cased, whitespace is normalised to one space, and parentheses appear only where needed.
    """
    if isinstance(node, AttrPath):
        if node.attr is None:
            return node.urn or ""
        text = node.attr if node.urn is None else f"{node.urn}:{node.attr}"
        return text if node.sub_attr is None else f"{text}.{node.sub_attr}"
    if isinstance(node, Compare):
        return f"{to_string(node.path)} {node.op} {_render_value(node.value)}"
    if isinstance(node, Present):
        return f"{to_string(node.path)} pr"
    if isinstance(node, And):
        parts = []
        for operand in _flatten(node, And):
            text = to_string(operand)
            parts.append(f"({text})" if isinstance(operand, Or) else text)
        return " and ".join(parts)
    if isinstance(node, Or):
        return " or ".join(to_string(operand) for operand in _flatten(node, Or))
    if isinstance(node, Not):
        return f"not ({to_string(node.expr)})"
    if isinstance(node, ValuePath):
        return f"{to_string(node.path)}[{to_string(node.filter)}]"
    if isinstance(node, PatchPath):
        text = to_string(node.attr)
        if node.value_filter is not None:
            text = f"{text}[{to_string(node.value_filter)}]"
        return text if node.sub_attr is None else f"{text}.{node.sub_attr}"
    raise TypeError(f"cannot render {type(node).__name__} as a SCIM filter")


def _render_value(value: CompValue) -> str:
    """Render a comparison value as the JSON literal it was parsed from (RFC 7159)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise TypeError(f"cannot render {value!r} as a SCIM comparison value")


def _flatten(node: Expr, kind: type[And] | type[Or]) -> list[Expr]:
    """Operands of the maximal ``kind`` chain rooted at ``node``, left to right, without recursion."""
    operands: list[Expr] = []
    stack: list[Expr] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, And | Or) and type(current) is kind:
            stack.append(current.right)
            stack.append(current.left)
        else:
            operands.append(current)
    return operands


def _balanced(kind: type[And] | type[Or], operands: list[Expr]) -> Expr:
    """Join ``operands`` with ``kind`` into a balanced tree (depth ~log2 n), keeping their order."""
    if len(operands) == 1:
        return operands[0]
    middle = (len(operands) + 1) // 2
    return kind(_balanced(kind, operands[:middle]), _balanced(kind, operands[middle:]))


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


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list; one instance per call."""

    def __init__(self, tokens: list[_Token], *, max_depth: int, noun: str) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.max_depth = max_depth
        self.noun = noun

    # -- helpers -----------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def unexpected(self, token: _Token, expected: str) -> FilterSyntaxError:
        if token.kind == "end":
            return FilterSyntaxError(
                f"unexpected end of {self.noun} at position {token.pos}; expected {expected}",
                position=token.pos,
            )
        return FilterSyntaxError(
            f"unexpected token {_show(token.text)} at position {token.pos}; expected {expected}",
            position=token.pos,
            token=token.text,
        )

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise FilterSyntaxError(
                f"{self.noun} is nested too deeply at position {token.pos}: at most {self.max_depth} "
                "levels of '(', 'not (' and '[' are allowed",
                position=token.pos,
                token=token.text,
            )

    def close(self, closer: str, opener: _Token) -> None:
        token = self.peek()
        if token.kind == closer:
            self.advance()
            self.depth -= 1
            return
        if token.kind == "end":
            raise FilterSyntaxError(
                f"missing {closer!r} to close {opener.text!r} at position {opener.pos}; "
                f"reached the end of the {self.noun} at position {token.pos}",
                position=opener.pos,
                token=opener.text,
            )
        raise self.unexpected(token, f"'and', 'or' or {closer!r} to close {opener.text!r} at position {opener.pos}")

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind == "end":
            return
        if token.kind in (")", "]"):
            opener = "(" if token.kind == ")" else "["
            raise FilterSyntaxError(
                f"unbalanced {token.kind!r} at position {token.pos}: there is no matching {opener!r}",
                position=token.pos,
                token=token.text,
            )
        raise self.unexpected(token, f"'and', 'or' or the end of the {self.noun}")

    def is_keyword(self, token: _Token, *keywords: str) -> bool:
        return token.kind == "word" and token.text.isascii() and token.text.lower() in keywords

    def starts_attr_expr(self, ahead: int) -> bool:
        """Whether the token after a word makes that word an attribute (``not pr``, ``and eq 1``)."""
        token = self.peek(ahead)
        return token.kind == "[" or self.is_keyword(token, "pr", *COMPARE_OPERATORS)

    # -- grammar -----------------------------------------------------------------------------------

    def parse_or(self, in_brackets: bool) -> Expr:
        operands = [self.parse_and(in_brackets)]
        while self.is_keyword(self.peek(), "or"):
            self.advance()
            operands.append(self.parse_and(in_brackets))
        return self.chain(Or, operands)

    def parse_and(self, in_brackets: bool) -> Expr:
        operands = [self.parse_unary(in_brackets)]
        while self.is_keyword(self.peek(), "and"):
            self.advance()
            operands.append(self.parse_unary(in_brackets))
        return self.chain(And, operands)

    @staticmethod
    def chain(kind: type[And] | type[Or], operands: list[Expr]) -> Expr:
        if len(operands) == 1:
            return operands[0]
        flat: list[Expr] = []
        for operand in operands:
            if type(operand) is kind:
                flat.extend(_flatten(operand, kind))  # merge "(a and b) and c" into one chain
            else:
                flat.append(operand)
        return _balanced(kind, flat)

    def parse_unary(self, in_brackets: bool) -> Expr:
        token = self.peek()
        if token.kind == "(":
            self.advance()
            self.enter(token)
            expr = self.parse_or(in_brackets)
            self.close(")", token)
            return expr
        if token.kind == "word":
            if self.is_keyword(token, "not") and not self.starts_attr_expr(1):
                following = self.peek(1)
                if following.kind != "(":
                    shown = "the end" if following.kind == "end" else _show(following.text)
                    raise FilterSyntaxError(
                        f"'not' at position {token.pos} must be followed by a parenthesised filter, "
                        f"as in 'not (...)'; found {shown} at position {following.pos}",
                        position=token.pos,
                        token=token.text,
                    )
                self.advance()
                self.advance()
                self.enter(following)
                expr = self.parse_or(in_brackets)
                self.close(")", following)
                return Not(expr)
            if self.is_keyword(token, "and", "or") and not self.starts_attr_expr(1):
                raise self.unexpected(token, _EXPECT_OPERAND)
            return self.parse_attr_expr(in_brackets)
        raise self.unexpected(token, _EXPECT_OPERAND)

    def parse_attr_expr(self, in_brackets: bool) -> Expr:
        token = self.advance()
        path = _attr_path_from_token(token.text, token.pos, allow_schema_urn=False, schema_urns=None)
        following = self.peek()
        if following.kind == "[":
            if in_brackets:
                raise FilterSyntaxError(
                    f"nested value filter {following.text!r} at position {following.pos}: a value filter "
                    "'[...]' cannot contain another one",
                    position=following.pos,
                    token=following.text,
                )
            self.advance()
            self.enter(following)
            inner = self.parse_or(in_brackets=True)
            self.close("]", following)
            after = self.peek()
            if after.kind == "word" and after.text.startswith("."):
                raise FilterSyntaxError(
                    f"unexpected sub-attribute {_show(after.text)} at position {after.pos}: "
                    "'attr[filter].subAttr' is only allowed in a PATCH path, not in a filter",
                    position=after.pos,
                    token=after.text,
                )
            return ValuePath(path, inner)
        if self.is_keyword(following, "pr"):
            self.advance()
            return Present(path)
        if self.is_keyword(following, *COMPARE_OPERATORS):
            self.advance()
            return Compare(path, following.text.lower(), self.parse_value(following))
        raise self.unexpected(following, _EXPECT_OPERATOR)

    def parse_value(self, operator: _Token) -> CompValue:
        token = self.peek()
        if token.kind == "end":
            raise FilterSyntaxError(
                f"missing comparison value after {_show(operator.text)} at position {operator.pos}; "
                f"expected {_EXPECT_VALUE} but the {self.noun} ends at position {token.pos}",
                position=token.pos,
            )
        if token.kind == "string":
            self.advance()
            assert token.value is not None
            return token.value
        if token.kind != "word":
            raise self.unexpected(token, _EXPECT_VALUE)
        text = token.text
        if text.isascii() and text.lower() in ("true", "false", "null"):
            self.advance()
            return {"true": True, "false": False, "null": None}[text.lower()]
        number = _NUMBER_RE.fullmatch(text)
        if number is not None:
            self.advance()
            return _number(text, token.pos, is_integer=number.group(1) is None and number.group(2) is None)
        if text[0] in "+-.0123456789":
            raise FilterSyntaxError(
                f"invalid number {_show(text)} at position {token.pos}; numbers use JSON syntax "
                "such as 42, -7, 1.5 or 2e10",
                position=token.pos,
                token=text,
            )
        if text[0] == "'":
            raise FilterSyntaxError(
                f"invalid value {_show(text)} at position {token.pos}; strings must be enclosed in double quotes",
                position=token.pos,
                token=text,
            )
        raise self.unexpected(token, _EXPECT_VALUE + "; strings must be enclosed in double quotes")


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
# Public entry points
# --------------------------------------------------------------------------------------------------


def _check_input(text: object, max_length: int, max_depth: int, noun: str) -> str:
    """Validate arguments and the length limit before any work is done on hostile text."""
    if not isinstance(text, str):
        raise TypeError(f"the {noun} must be a str, not {type(text).__name__}")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError("max_length must be a positive int")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise ValueError("max_depth must be a non-negative int")
    if len(text) > max_length:
        raise FilterSyntaxError(f"{noun} is {len(text)} characters long; the maximum is {max_length}")
    if not text.strip(_WHITESPACE):
        raise FilterSyntaxError(f"{noun} is empty", position=0)
    return text


def _too_deep(noun: str, scim_type: str) -> FilterSyntaxError:
    """Backstop for a caller-chosen ``max_depth`` so large that Python's own stack runs out first."""
    return FilterSyntaxError(f"{noun} is nested too deeply to be parsed", scim_type=scim_type)


def parse_filter(text: str, *, max_length: int = DEFAULT_MAX_LENGTH, max_depth: int = DEFAULT_MAX_DEPTH) -> Expr:
    """Parse a SCIM ``filter`` query parameter (RFC 7644 §3.4.2.2) into an AST.

    Why strict: a filter that is accepted but misunderstood returns the wrong resources, which for
    provisioning means duplicate or wrongly matched users; so anything outside the RFC grammar raises
    :class:`FilterSyntaxError` (``scim_type == "invalidFilter"``, RFC 7644 §3.12).  ``max_length``
    (characters) and ``max_depth`` (nesting of ``(``, ``not (`` and ``[``) bound the work done on
    hostile input; no other exception escapes for any ``str`` input.
    """
    _check_input(text, max_length, max_depth, "filter")
    try:
        parser = _Parser(_tokenize(text), max_depth=max_depth, noun="filter")
        expr = parser.parse_or(in_brackets=False)
        parser.expect_end()
    except RecursionError:
        raise _too_deep("filter", "invalidFilter") from None
    return expr


def parse_patch_path(
    text: str,
    *,
    schema_urns: Iterable[str] | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> PatchPath:
    """Parse a PATCH operation ``path`` (RFC 7644 §3.5.2: ``PATH = attrPath / valuePath [subAttr]``).

    Why a separate entry point: a path may end in ``].subAttr`` (``emails[type eq "work"].value``),
    which a filter may not, and may be a bare schema URN naming a whole extension
    (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User``), returned as an
    :class:`AttrPath` with ``attr=None``.  Which URNs are schemas is decided by ``schema_urns`` when
    given (compared case-insensitively), otherwise by the heuristic of :func:`_is_schema_urn`.
    Errors raise :class:`FilterSyntaxError` with ``scim_type == "invalidPath"``.
    """
    try:
        _check_input(text, max_length, max_depth, "path")
        folded = _folded_urns(schema_urns)
        tokens = _tokenize(text)
        parser = _Parser(tokens, max_depth=max_depth, noun="path")
        first = parser.advance()
        if first.kind != "word":
            raise parser.unexpected(first, "an attribute path")
        attr = _attr_path_from_token(first.text, first.pos, allow_schema_urn=True, schema_urns=folded)
        value_filter: Expr | None = None
        sub_attr: str | None = None
        bracket = parser.peek()
        if bracket.kind == "[":
            if attr.attr is None:
                raise FilterSyntaxError(
                    f"unexpected '[' at position {bracket.pos}: a value filter needs an attribute, "
                    f"not the schema URN {_show(first.text)}",
                    position=bracket.pos,
                    token="[",
                )
            parser.advance()
            parser.enter(bracket)
            value_filter = parser.parse_or(in_brackets=True)
            parser.close("]", bracket)
            after = parser.peek()
            if after.kind == "word" and after.text.startswith("."):
                if after.space_before:
                    raise FilterSyntaxError(
                        f"unexpected whitespace before {_show(after.text)} at position {after.pos}; "
                        "write the sub-attribute right after ']'",
                        position=after.pos,
                        token=after.text,
                    )
                if not _ATTRNAME_RE.fullmatch(after.text, 1):
                    raise FilterSyntaxError(
                        f"invalid sub-attribute {_show(after.text)} at position {after.pos}; {_ATTRNAME_RULE}",
                        position=after.pos,
                        token=after.text,
                    )
                parser.advance()
                sub_attr = after.text[1:]
        end = parser.peek()
        if end.kind != "end":
            if end.kind == "]":
                raise FilterSyntaxError(
                    f"unbalanced ']' at position {end.pos}: there is no matching '['",
                    position=end.pos,
                    token=end.text,
                )
            expected = "the end of the path" if value_filter is not None else "'[' or the end of the path"
            raise parser.unexpected(end, expected)
    except RecursionError:
        raise _too_deep("path", "invalidPath") from None
    except FilterSyntaxError as exc:
        exc.scim_type = "invalidPath"
        raise
    return PatchPath(attr, value_filter, sub_attr)


def parse_attr_path(
    text: str, *, schema_urns: Iterable[str] | None = None, max_length: int = DEFAULT_MAX_LENGTH
) -> AttrPath:
    """Parse one attribute path such as ``sortBy`` or an ``attributes`` entry (RFC 7644 §3.4.2.3, §3.10).

    Why here: those parameters use the same ``attrPath`` grammar as filters, and should fail with
    the same precise messages.  A bare schema URN is accepted (``attr=None``) as in PATCH paths;
    surrounding whitespace is ignored.
    """
    _check_input(text, max_length, 0, "attribute path")
    stripped = text.strip(_WHITESPACE)
    offset = len(text) - len(text.lstrip(_WHITESPACE))
    bad = next((i for i, char in enumerate(stripped) if char in _WHITESPACE + '()[]"'), None)
    if bad is not None:
        raise FilterSyntaxError(
            f"unexpected character {stripped[bad]!r} at position {offset + bad} in attribute path {_show(stripped)}",
            position=offset + bad,
            token=stripped[bad],
        )
    return _attr_path_from_token(stripped, offset, allow_schema_urn=True, schema_urns=_folded_urns(schema_urns))
