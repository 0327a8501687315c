"""Strict parser for SCIM 2.0 filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2).

Why a hand-written parser: the filter text arrives straight from identity providers (Okta, Entra ID)
and from anyone holding a token, so it must be parsed strictly, with error messages a human can act
on, and with hard limits that keep hostile input from consuming memory or the Python stack.  A small
tokenizer plus a recursive-descent parser gives full control over all three, with no dependency.

Where things are: the AST, :class:`FilterSyntaxError`, the limits and :func:`to_string` in
:mod:`scim.filters.syntax`; the tokenizer, JSON string and number literals and attribute paths (one word
each) in :mod:`scim.filters.lexer`; the grammar below and the entry points :func:`parse_filter`,
:func:`parse_patch_path` and :func:`parse_attr_path` here.  docs/architecture.md says why the grammar is
hand-written rather than built on a parsing library, with measurements.

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

import re
from collections.abc import Iterable
from typing import Final

from scim.filters.lexer import (
    _ATTRNAME_RE,
    _ATTRNAME_RULE,
    _NUMBER_RE,
    _WHITESPACE,
    _attr_path_from_token,
    _folded_urns,
    _number,
    _show,
    _Token,
    _tokenize,
)
from scim.filters.syntax import (
    COMPARE_OPERATORS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_LENGTH,
    MAX_NUMBER_EXPONENT,
    RFC_SCHEMA_URNS,
    And,
    AttrPath,
    Compare,
    CompValue,
    Expr,
    FilterSyntaxError,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    _balanced,
    _flatten,
    to_string,
)

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

_OPERATOR_LIST: Final = ", ".join(COMPARE_OPERATORS)
_EXPECT_OPERATOR: Final = f"a comparison operator ({_OPERATOR_LIST}) or 'pr'"
_EXPECT_OPERAND: Final = "an attribute path, '(' or 'not ('"
_EXPECT_VALUE: Final = "a comparison value (a JSON string in double quotes, a number, true, false or null)"


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


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


# `attr eq "string"` and `attr.sub eq "string"`: attribute names as _ATTRNAME (without `$ref`), a string without
# escapes in the characters the lexer's _STRING_CHUNK_RE reads as themselves, whitespace as the lexer's.
_SIMPLE_EQ: Final = re.compile(
    r"[ \t\r\n]*([A-Za-z][A-Za-z0-9_-]*)(?:\.([A-Za-z][A-Za-z0-9_-]*))?[ \t\r\n]+[Ee][Qq][ \t\r\n]+"
    r'"([^"\\\x00-\x1f\ud800-\udfff]*)"[ \t\r\n]*'
)
# Words the grammar reads as keywords where an attribute could stand: such a filter takes the general way.
_KEYWORDS: Final = frozenset({"and", "or", "not", "pr", "true", "false", "null", *COMPARE_OPERATORS})


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
    simple = _SIMPLE_EQ.fullmatch(text)
    if simple is not None and simple.group(1).lower() not in _KEYWORDS:
        # The one shape IdPs look users and groups up with (`userName eq "…"`, no escape, no URN): the same tree
        # the grammar below gives it (tests/scim/test_filter_parser.py checks both agree), in a tenth of the time.
        attr, sub_attr, value = simple.groups()
        return Compare(AttrPath(None, attr, sub_attr), "eq", value)
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
    given (compared case-insensitively), otherwise by the heuristic of :func:`scim.filters.lexer._is_schema_urn`.
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
