"""Tests for the SCIM filter / PATCH path parser (RFC 7644 §3.4.2.2 and §3.5.2).

Pure Python: no Django settings and no database are needed.
"""

from __future__ import annotations

import contextlib
import random
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scim.filters import (
    COMPARE_OPERATORS,
    And,
    AttrPath,
    Compare,
    Expr,
    FilterSyntaxError,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    parse_attr_path,
    parse_filter,
    parse_patch_path,
    to_string,
)

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def p(attr: str, sub_attr: str | None = None, urn: str | None = None) -> AttrPath:
    return AttrPath(urn, attr, sub_attr)


def eq(attr: str, value: object, sub_attr: str | None = None) -> Compare:
    return Compare(p(attr, sub_attr), "eq", value)


def pr(attr: str) -> Present:
    return Present(p(attr))


def error(text: str, **kwargs: int) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text, **kwargs)
    return info.value


def path_error(text: str, **kwargs: object) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as info:
        parse_patch_path(text, **kwargs)  # type: ignore[arg-type]
    return info.value


def tree_depth(node: object) -> int:
    if isinstance(node, And | Or):
        return 1 + max(tree_depth(node.left), tree_depth(node.right))
    if isinstance(node, Not):
        return 1 + tree_depth(node.expr)
    if isinstance(node, ValuePath):
        return 1 + tree_depth(node.filter)
    return 1


def assert_round_trip(text: str) -> Expr:
    parsed = parse_filter(text)
    canonical = to_string(parsed)
    assert parse_filter(canonical) == parsed
    assert to_string(parse_filter(canonical)) == canonical
    return parsed


# --------------------------------------------------------------------------------------------------
# RFC 7644 §3.4.2.2 examples
# --------------------------------------------------------------------------------------------------

RFC_EXAMPLES = [
    'userName eq "bjensen"',
    'name.familyName co "O\'Malley"',
    'userName sw "J"',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
    "title pr",
    'meta.lastModified gt "2011-05-13T04:42:34Z"',
    'meta.lastModified ge "2011-05-13T04:42:34Z"',
    'meta.lastModified lt "2011-05-13T04:42:34Z"',
    'meta.lastModified le "2011-05-13T04:42:34Z"',
    'title pr and userType eq "Employee"',
    'title pr or userType eq "Intern"',
    'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
    'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    'userType eq "Employee" and (emails.type eq "work")',
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
]


@pytest.mark.parametrize("text", RFC_EXAMPLES)
def test_rfc_example_filters_parse_and_round_trip(text: str) -> None:
    assert_round_trip(text)


def test_rfc_example_simple_equality() -> None:
    assert parse_filter('userName eq "bjensen"') == Compare(p("userName"), "eq", "bjensen")


def test_rfc_example_sub_attribute_with_apostrophe() -> None:
    assert parse_filter('name.familyName co "O\'Malley"') == Compare(p("name", "familyName"), "co", "O'Malley")


def test_rfc_example_urn_prefixed_attribute() -> None:
    assert parse_filter(f'{CORE_USER}:userName sw "J"') == Compare(AttrPath(CORE_USER, "userName", None), "sw", "J")


def test_rfc_example_presence() -> None:
    assert parse_filter("title pr") == Present(p("title"))


@pytest.mark.parametrize("op", ["gt", "ge", "lt", "le"])
def test_rfc_example_date_comparisons(op: str) -> None:
    assert parse_filter(f'meta.lastModified {op} "2011-05-13T04:42:34Z"') == Compare(
        p("meta", "lastModified"), op, "2011-05-13T04:42:34Z"
    )


def test_rfc_example_and_or() -> None:
    assert parse_filter('title pr and userType eq "Employee"') == And(pr("title"), eq("userType", "Employee"))
    assert parse_filter('title pr or userType eq "Intern"') == Or(pr("title"), eq("userType", "Intern"))


def test_rfc_example_schema_urn_is_a_plain_string_value() -> None:
    assert parse_filter(f'schemas eq "{ENTERPRISE_USER}"') == eq("schemas", ENTERPRISE_USER)


def test_rfc_example_grouping() -> None:
    expected = And(
        eq("userType", "Employee"),
        Or(Compare(p("emails"), "co", "example.com"), Compare(p("emails", "value"), "co", "example.org")),
    )
    assert (
        parse_filter('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")')
        == expected
    )


def test_rfc_example_not() -> None:
    expected = And(
        Compare(p("userType"), "ne", "Employee"),
        Not(Or(Compare(p("emails"), "co", "example.com"), Compare(p("emails", "value"), "co", "example.org"))),
    )
    text = 'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")'
    assert parse_filter(text) == expected
    assert to_string(expected) == text


def test_rfc_example_redundant_parentheses_are_dropped_when_rendering() -> None:
    parsed = parse_filter('userType eq "Employee" and (emails.type eq "work")')
    assert parsed == And(eq("userType", "Employee"), eq("emails", "work", "type"))
    assert to_string(parsed) == 'userType eq "Employee" and emails.type eq "work"'


def test_rfc_example_value_path() -> None:
    expected = And(
        eq("userType", "Employee"),
        ValuePath(p("emails"), And(eq("type", "work"), Compare(p("value"), "co", "@example.com"))),
    )
    text = 'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]'
    assert parse_filter(text) == expected
    assert to_string(expected) == text


def test_rfc_example_two_value_paths() -> None:
    expected = Or(
        ValuePath(p("emails"), And(eq("type", "work"), Compare(p("value"), "co", "@example.com"))),
        ValuePath(p("ims"), And(eq("type", "xmpp"), Compare(p("value"), "co", "@foo.com"))),
    )
    text = 'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]'
    assert parse_filter(text) == expected
    assert str(expected) == text


# --------------------------------------------------------------------------------------------------
# Identity provider filters
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "jane@example.com"', eq("userName", "jane@example.com")),
        ('externalId eq "00u1abc"', eq("externalId", "00u1abc")),
        ('displayName eq "Engineering"', eq("displayName", "Engineering")),
        ('members[value eq "abc"]', ValuePath(p("members"), eq("value", "abc"))),
        ('id eq "2819c223-7f76-453a-919d-413861904646"', eq("id", "2819c223-7f76-453a-919d-413861904646")),
        (
            f'{ENTERPRISE_USER}:employeeNumber eq "701984"',
            Compare(AttrPath(ENTERPRISE_USER, "employeeNumber", None), "eq", "701984"),
        ),
    ],
)
def test_okta_and_entra_filters(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


# --------------------------------------------------------------------------------------------------
# Precedence, chains, case-insensitivity, whitespace
# --------------------------------------------------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    assert parse_filter("a pr or b pr and c pr") == Or(pr("a"), And(pr("b"), pr("c")))
    assert parse_filter("a pr and b pr or c pr") == Or(And(pr("a"), pr("b")), pr("c"))


def test_parentheses_override_precedence() -> None:
    assert parse_filter("(a pr or b pr) and c pr") == And(Or(pr("a"), pr("b")), pr("c"))
    assert to_string(parse_filter("(a pr or b pr) and c pr")) == "(a pr or b pr) and c pr"


def test_not_applies_only_to_its_parenthesised_group() -> None:
    assert parse_filter("not (a pr) and b pr") == And(Not(pr("a")), pr("b"))
    assert parse_filter("not (not (a pr))") == Not(Not(pr("a")))


def test_not_without_space_before_parenthesis() -> None:
    assert parse_filter("not(a pr)") == Not(pr("a"))


def test_chains_are_balanced_and_keep_operand_order() -> None:
    assert parse_filter("a pr and b pr and c pr") == And(And(pr("a"), pr("b")), pr("c"))
    assert parse_filter("a pr or b pr or c pr or d pr") == Or(Or(pr("a"), pr("b")), Or(pr("c"), pr("d")))


def test_same_operator_groups_merge_into_the_chain() -> None:
    chain = parse_filter("a pr and b pr and c pr")
    assert parse_filter("(a pr and b pr) and c pr") == chain
    assert parse_filter("a pr and (b pr and c pr)") == chain
    assert to_string(parse_filter("a pr or (b pr or c pr)")) == "a pr or b pr or c pr"


def test_long_chains_stay_shallow() -> None:
    text = " or ".join(f"a{i} pr" for i in range(1000))
    parsed = parse_filter(text, max_length=20_000)
    assert tree_depth(parsed) <= 11
    assert parse_filter(to_string(parsed), max_length=20_000) == parsed
    assert hash(parsed) == hash(parse_filter(text, max_length=20_000))
    assert repr(parsed).startswith("Or(")


@pytest.mark.parametrize(
    "text",
    [
        'userName EQ "x"',
        'userName Eq "x"',
        'userName eQ "x"',
    ],
)
def test_comparison_operators_are_case_insensitive(text: str) -> None:
    assert parse_filter(text) == eq("userName", "x")


def test_all_comparison_operators_are_lowercased() -> None:
    for op in COMPARE_OPERATORS:
        assert parse_filter(f'a {op.upper()} "x"') == Compare(p("a"), op, "x")


def test_keywords_are_case_insensitive() -> None:
    assert parse_filter("title PR") == pr("title")
    assert parse_filter('a eq "x" AND b eq "y"') == And(eq("a", "x"), eq("b", "y"))
    assert parse_filter('a eq "x" Or b eq "y"') == Or(eq("a", "x"), eq("b", "y"))
    assert parse_filter("NOT (a pr)") == Not(pr("a"))
    assert parse_filter("a eq TRUE or a eq False or a eq NULL") == Or(Or(eq("a", True), eq("a", False)), eq("a", None))


def test_attribute_names_keep_their_case() -> None:
    assert parse_filter('USERNAME eq "x"') == eq("USERNAME", "x")
    assert parse_filter('Name.FamilyName eq "x"') == eq("Name", "x", "FamilyName")


def test_extra_whitespace_is_tolerated() -> None:
    expected = And(eq("userName", "x"), pr("title"))
    assert parse_filter('  userName \t eq   "x"\tand  title\t\tpr  ') == expected
    assert parse_filter('( userName eq "x" )and(title pr)') == expected
    assert parse_filter('emails [ type eq "work" ]') == ValuePath(p("emails"), eq("type", "work"))


def test_keyword_spelled_attribute_names_are_attributes_when_followed_by_an_operator() -> None:
    assert parse_filter("not pr") == pr("not")
    assert parse_filter('and eq "x" or or pr') == Or(eq("and", "x"), pr("or"))


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("1.5", Decimal("1.5")),
        ("-0.25", Decimal("-0.25")),
        ("1e3", Decimal("1e3")),
        ("2.5E-4", Decimal("2.5E-4")),
        ("-1E+2", Decimal("-1E+2")),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_literal_values(literal: str, value: object) -> None:
    parsed = parse_filter(f"a eq {literal}")
    assert isinstance(parsed, Compare)
    assert parsed.value == value
    assert type(parsed.value) is type(value)


def test_decimal_values_are_exact() -> None:
    parsed = parse_filter("a gt 1.10")
    assert isinstance(parsed, Compare)
    assert parsed.value == Decimal("1.10")
    assert str(parsed) == "a gt 1.10"


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"back\\slash"', "back\\slash"),
        (r'"a\/b"', "a/b"),
        (r'"\b\f\n\r\t"', "\b\f\n\r\t"),
        (r'"\u00e9t\u00C9"', "étÉ"),
        (r'"\ud83d\ude00"', "\U0001f600"),
        ('"ünïcödé ☃"', "ünïcödé ☃"),
        ('""', ""),
        ('"a and b or not (c)"', "a and b or not (c)"),
        ('"[x]"', "[x]"),
    ],
)
def test_json_string_values(literal: str, value: str) -> None:
    parsed = parse_filter(f"a eq {literal}")
    assert parsed == eq("a", value)
    assert parse_filter(to_string(parsed)) == parsed


# --------------------------------------------------------------------------------------------------
# Attribute paths
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName", AttrPath(None, "userName", None)),
        ("name.givenName", AttrPath(None, "name", "givenName")),
        ("x-custom_attr9", AttrPath(None, "x-custom_attr9", None)),
        (f"{CORE_USER}:userName", AttrPath(CORE_USER, "userName", None)),
        (f"{ENTERPRISE_USER}:manager.value", AttrPath(ENTERPRISE_USER, "manager", "value")),
        ("urn:okta:custom:1.0:User:costCenter", AttrPath("urn:okta:custom:1.0:User", "costCenter", None)),
        ("members.$ref", AttrPath(None, "members", "$ref")),
        ("$ref", AttrPath(None, "$ref", None)),
        (f"{ENTERPRISE_USER}:manager.$ref", AttrPath(ENTERPRISE_USER, "manager", "$ref")),
    ],
)
def test_attribute_paths_in_filters(text: str, expected: AttrPath) -> None:
    assert parse_filter(f"{text} pr") == Present(expected)
    assert parse_attr_path(text) == expected
    assert to_string(expected) == text


def test_parse_attr_path_accepts_bare_schema_urn_and_surrounding_whitespace() -> None:
    assert parse_attr_path(ENTERPRISE_USER) == AttrPath(ENTERPRISE_USER, None, None)
    assert parse_attr_path("  name.familyName ") == AttrPath(None, "name", "familyName")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "attribute path is empty"),
        (
            "name familyName",
            "unexpected character ' ' at position 4 in attribute path 'name familyName'",
        ),
        (
            "1abc",
            "invalid attribute path '1abc' at position 0; attribute names start with a letter and contain "
            "only letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a sub-attribute",
        ),
    ],
)
def test_parse_attr_path_errors(text: str, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_attr_path(text)
    assert str(info.value) == message


# --------------------------------------------------------------------------------------------------
# Value paths
# --------------------------------------------------------------------------------------------------


def test_value_path_attributes_are_relative() -> None:
    parsed = parse_filter('emails[type eq "work" and primary eq true]')
    assert parsed == ValuePath(p("emails"), And(eq("type", "work"), eq("primary", True)))


def test_value_path_may_contain_not_and_parentheses() -> None:
    parsed = parse_filter('emails[not (type eq "work") or (primary eq true)]')
    assert parsed == ValuePath(p("emails"), Or(Not(eq("type", "work")), eq("primary", True)))


def test_value_path_with_urn_prefix() -> None:
    parsed = parse_filter(f'{CORE_USER}:emails[type eq "work"]')
    assert parsed == ValuePath(AttrPath(CORE_USER, "emails", None), eq("type", "work"))


def test_value_path_can_be_negated_and_combined() -> None:
    parsed = parse_filter('not (emails[type eq "work"]) and userName sw "j"')
    assert parsed == And(Not(ValuePath(p("emails"), eq("type", "work"))), Compare(p("userName"), "sw", "j"))


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------

OPERATORS = "eq, ne, co, sw, ew, gt, ge, lt, le"
VALUE = "a comparison value (a JSON string in double quotes, a number, true, false or null)"
OPERAND = "an attribute path, '(' or 'not ('"

ERROR_CASES = [
    # empty
    ("", "filter is empty"),
    ("   \t ", "filter is empty"),
    # unknown / missing operator
    (
        'userName xx "a"',
        f"unexpected token 'xx' at position 9; expected a comparison operator ({OPERATORS}) or 'pr'",
    ),
    (
        "userName",
        f"unexpected end of filter at position 8; expected a comparison operator ({OPERATORS}) or 'pr'",
    ),
    (
        'userName equals "a"',
        f"unexpected token 'equals' at position 9; expected a comparison operator ({OPERATORS}) or 'pr'",
    ),
    (
        'userName = "a"',
        f"unexpected token '=' at position 9; expected a comparison operator ({OPERATORS}) or 'pr'",
    ),
    # missing or malformed value
    (
        "userName eq",
        f"missing comparison value after 'eq' at position 9; expected {VALUE} but the filter ends at position 11",
    ),
    (
        "userName eq bjensen",
        f"unexpected token 'bjensen' at position 12; expected {VALUE}; strings must be enclosed in double quotes",
    ),
    (
        "userName eq 'bjensen'",
        "invalid value \"'bjensen'\" at position 12; strings must be enclosed in double quotes",
    ),
    ("userName eq )", f"unexpected token ')' at position 12; expected {VALUE}"),
    ("a eq 01", "invalid number '01' at position 5; numbers use JSON syntax such as 42, -7, 1.5 or 2e10"),
    ("a eq 1.", "invalid number '1.' at position 5; numbers use JSON syntax such as 42, -7, 1.5 or 2e10"),
    ("a eq +1", "invalid number '+1' at position 5; numbers use JSON syntax such as 42, -7, 1.5 or 2e10"),
    ("a eq -", "invalid number '-' at position 5; numbers use JSON syntax such as 42, -7, 1.5 or 2e10"),
    ("a eq .5", "invalid number '.5' at position 5; numbers use JSON syntax such as 42, -7, 1.5 or 2e10"),
    (
        "a eq 1.2.3",
        "invalid number '1.2.3' at position 5; numbers use JSON syntax such as 42, -7, 1.5 or 2e10",
    ),
    (
        "a eq 1e99999999999999999999999",
        "number '1e99999999999999999999999' at position 5 is too large; numbers in a filter are below 1e1000 in "
        "magnitude",
    ),
    ("a eq 1e1000", "number '1e1000' at position 5 is too large; numbers in a filter are below 1e1000 in magnitude"),
    (
        "a lt -0.1e-1000",
        "number '-0.1e-1000' at position 5 is too small; numbers in a filter are 0 or at least 1e-1000 in magnitude",
    ),
    # strings
    ('a eq "abc', "unterminated string starting at position 5; a closing '\"' is missing"),
    ('a eq "abc\\', "unterminated string starting at position 5; a closing '\"' is missing"),
    ('a eq "abc\\"', "unterminated string starting at position 5; a closing '\"' is missing"),
    (
        'a eq "a\\x"',
        "invalid escape '\\\\x' in string at position 7; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
        "and \\uXXXX",
    ),
    (
        'a eq "\\u12G4"',
        "invalid unicode escape '\\\\u12G4' in string at position 6; expected \\u followed by 4 hexadecimal digits",
    ),
    (
        'a eq "\\u1_23"',
        "invalid unicode escape '\\\\u1_23' in string at position 6; expected \\u followed by 4 hexadecimal digits",
    ),
    (
        'a eq "\\u12"',
        "invalid unicode escape '\\\\u12\"' in string at position 6; expected \\u followed by 4 hexadecimal digits",
    ),
    ('a eq "\\ud800"', "unpaired surrogate escape '\\\\ud800' in string at position 6"),
    ('a eq "\\ud800\\u0041"', "unpaired surrogate escape '\\\\ud800' in string at position 6"),
    ('a eq "\\udc00"', "unpaired surrogate escape '\\\\udc00' in string at position 6"),
    (
        'a eq "line\nbreak"',
        "unescaped control character U+000A in string at position 10; control characters must be written "
        "as escapes such as \\n or \\u001f",
    ),
    ('a eq "\ud800"', "invalid character U+D800 (a lone surrogate) in string at position 6"),
    (
        'a eq "x\\u0000"',
        "NUL character escape '\\\\u0000' in string at position 7; no attribute value can contain U+0000",
    ),
    # whitespace between tokens
    ('a eq"x"', "missing whitespace between 'eq' and '\"x\"' at position 4"),
    ('a eq "x"and b pr', "missing whitespace between '\"x\"' and 'and' at position 8"),
    ('a eq "x""y"', "missing whitespace between '\"x\"' and '\"y\"' at position 8"),
    # trailing garbage
    ("title pr xyz", "unexpected token 'xyz' at position 9; expected 'and', 'or' or the end of the filter"),
    ('title pr "x"', "unexpected token '\"x\"' at position 9; expected 'and', 'or' or the end of the filter"),
    (
        'a eq "x" b eq "y"',
        "unexpected token 'b' at position 9; expected 'and', 'or' or the end of the filter",
    ),
    ("a pr (b pr)", "unexpected token '(' at position 5; expected 'and', 'or' or the end of the filter"),
    # dangling logical operators
    ("title pr and", f"unexpected end of filter at position 12; expected {OPERAND}"),
    ("and title pr", f"unexpected token 'and' at position 0; expected {OPERAND}"),
    ("title pr or or b pr", f"unexpected token 'or' at position 12; expected {OPERAND}"),
    ("title pr and )", f"unexpected token ')' at position 13; expected {OPERAND}"),
    # parentheses
    ("(a pr", "missing ')' to close '(' at position 0; reached the end of the filter at position 5"),
    ("((a pr)", "missing ')' to close '(' at position 0; reached the end of the filter at position 7"),
    ("a pr)", "unbalanced ')' at position 4: there is no matching '('"),
    ("()", f"unexpected token ')' at position 1; expected {OPERAND}"),
    ("(a pr]", "unexpected token ']' at position 5; expected 'and', 'or' or ')' to close '(' at position 0"),
    (
        "(a pr b)",
        "unexpected token 'b' at position 6; expected 'and', 'or' or ')' to close '(' at position 0",
    ),
    # not
    (
        "not a pr",
        "'not' at position 0 must be followed by a parenthesised filter, as in 'not (...)'; found 'a' at position 4",
    ),
    (
        "a pr and not",
        "'not' at position 9 must be followed by a parenthesised filter, as in 'not (...)'; "
        "found the end at position 12",
    ),
    ("not ()", f"unexpected token ')' at position 5; expected {OPERAND}"),
    # brackets
    (
        'emails[type eq "work"',
        "missing ']' to close '[' at position 6; reached the end of the filter at position 21",
    ),
    ("emails[]", f"unexpected token ']' at position 7; expected {OPERAND}"),
    ("a pr]", "unbalanced ']' at position 4: there is no matching '['"),
    ("[a pr]", f"unexpected token '[' at position 0; expected {OPERAND}"),
    (
        'emails[type eq "work")',
        "unexpected token ')' at position 21; expected 'and', 'or' or ']' to close '[' at position 6",
    ),
    (
        'emails[type eq "work" and x[y pr]]',
        "nested value filter '[' at position 27: a value filter '[...]' cannot contain another one",
    ),
    (
        'emails[type eq "work"].value eq "x"',
        "unexpected sub-attribute '.value' at position 22: 'attr[filter].subAttr' is only allowed in a PATCH "
        "path, not in a filter",
    ),
    # attribute paths
    (
        '1abc eq "x"',
        "invalid attribute path '1abc' at position 0; attribute names start with a letter and contain only "
        "letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a sub-attribute",
    ),
    (
        'a.b.c eq "x"',
        "invalid attribute path 'a.b.c' at position 0; attribute names start with a letter and contain only "
        "letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a sub-attribute",
    ),
    (
        'name. eq "x"',
        "invalid attribute path 'name.' at position 0; attribute names start with a letter and contain only "
        "letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a sub-attribute",
    ),
    (
        'user@name eq "x"',
        "invalid attribute path 'user@name' at position 0; attribute names start with a letter and contain "
        "only letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a sub-attribute",
    ),
    (
        'foo:bar eq "x"',
        "invalid attribute path 'foo:bar' at position 0: 'foo' is not a valid schema URN "
        "(expected 'urn:<namespace>:<...>' before the last ':')",
    ),
    (
        f'{CORE_USER}: eq "x"',
        f"invalid attribute path '{CORE_USER[:37]}...' at position 0; attribute names start with a letter "
        "and contain only letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a "
        "sub-attribute",
    ),
    (
        f"{ENTERPRISE_USER} pr",
        f"invalid attribute path '{ENTERPRISE_USER[:37]}...' at position 0: it is a schema URN without an "
        "attribute name; append ':' and the attribute name",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERROR_CASES)
def test_syntax_errors_have_precise_messages(text: str, message: str) -> None:
    exc = error(text)
    assert str(exc) == message
    assert exc.scim_type == "invalidFilter"


def test_error_carries_position_and_token() -> None:
    exc = error('userName xx "a"')
    assert isinstance(exc, ValueError)
    assert exc.position == 9
    assert exc.token == "xx"
    assert exc.message == str(exc)


def test_error_at_end_has_no_token() -> None:
    exc = error("title pr and")
    assert exc.position == 12
    assert exc.token is None


def test_long_tokens_are_shortened_in_messages() -> None:
    exc = error("a eq " + "x" * 500)
    assert "'" + "x" * 37 + "...'" in str(exc)
    assert len(str(exc)) < 250


def test_non_printable_characters_are_escaped_in_messages() -> None:
    exc = error('user\x00name eq "x"')
    assert "'user\\x00name'" in str(exc)


def test_non_string_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_filter(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_filter(b'userName eq "x"')  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------------


def test_max_length_default_is_4096() -> None:
    text = 'a eq "' + "x" * (4096 - 7) + '"'
    assert len(text) == 4096
    assert parse_filter(text) == eq("a", "x" * 4089)
    exc = error(text + " ")
    assert str(exc) == "filter is 4097 characters long; the maximum is 4096"


def test_max_length_is_configurable() -> None:
    assert str(error('userName eq "bjensen"', max_length=10)) == "filter is 21 characters long; the maximum is 10"
    assert parse_filter("a pr", max_length=4) == pr("a")


def test_max_depth_default_is_32() -> None:
    ok = "(" * 32 + "a pr" + ")" * 32
    assert parse_filter(ok) == pr("a")
    exc = error("(" * 33 + "a pr" + ")" * 33)
    assert str(exc) == (
        "filter is nested too deeply at position 32: at most 32 levels of '(', 'not (' and '[' are allowed"
    )
    assert exc.position == 32


def test_max_depth_counts_not_and_brackets() -> None:
    assert parse_filter('not (emails[type eq "work"])', max_depth=2) == Not(ValuePath(p("emails"), eq("type", "work")))
    assert "nested too deeply at position 11" in str(error('not (emails[type eq "work"])', max_depth=1))
    assert "nested too deeply at position 4" in str(error("not (a pr)", max_depth=0))
    assert "nested too deeply at position 0" in str(error("(a pr)", max_depth=0))
    assert parse_filter("a pr", max_depth=0) == pr("a")


def test_deep_not_nesting_is_rejected() -> None:
    text = "not (" * 40 + "a pr" + ")" * 40
    assert "nested too deeply" in str(error(text))


def test_absurd_max_depth_still_cannot_blow_the_stack() -> None:
    depth = sys.getrecursionlimit() * 2
    text = "(" * depth + "a pr" + ")" * depth
    exc = error(text, max_length=len(text), max_depth=depth * 2)
    assert str(exc) == "filter is nested too deeply to be parsed"
    assert exc.scim_type == "invalidFilter"


def test_longest_chain_within_default_length_parses() -> None:
    text = " or ".join(["a pr"] * 512)
    assert len(text) == 4092
    parsed = parse_filter(text)
    assert tree_depth(parsed) == 10
    assert parsed == parse_filter(to_string(parsed))


def test_invalid_limit_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="max_length"):
        parse_filter("a pr", max_length=0)
    with pytest.raises(ValueError, match="max_depth"):
        parse_filter("a pr", max_depth=-1)


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def test_to_string_is_canonical() -> None:
    parsed = parse_filter('  userName   EQ "x"  AND (Title PR  OR  not(a Gt 1.50)) ')
    assert to_string(parsed) == 'userName eq "x" and (Title pr or not (a gt 1.50))'
    assert str(parsed) == parsed.to_string() == to_string(parsed)


def test_to_string_escapes_strings_as_json() -> None:
    node = eq("a", 'quote " backslash \\ newline \n tab \t bell \x07 snow ☃')
    text = to_string(node)
    assert text == 'a eq "quote \\" backslash \\\\ newline \\n tab \\t bell \\u0007 snow ☃"'
    assert parse_filter(text) == node


def test_nul_escapes_are_refused_in_filters_and_paths() -> None:
    """JSON allows "\\u0000", no attribute can hold it (PostgreSQL refuses NUL): refused where literals are decoded."""
    text = to_string(eq("a", "nul \x00"))
    assert text == 'a eq "nul \\u0000"'
    assert error(text).scim_type == "invalidFilter"
    assert error(text).position == 10
    exc = path_error('emails[type eq "\\u0000"].value')
    assert exc.scim_type == "invalidPath" and "NUL" in str(exc)
    assert parse_filter('a eq "\\u0001\\u001f"') == eq("a", "\x01\x1f")  # other control characters are values


def test_to_string_adds_parentheses_only_where_needed() -> None:
    assert to_string(And(Or(pr("a"), pr("b")), pr("c"))) == "(a pr or b pr) and c pr"
    assert to_string(Or(And(pr("a"), pr("b")), pr("c"))) == "a pr and b pr or c pr"
    assert to_string(Not(And(pr("a"), pr("b")))) == "not (a pr and b pr)"


def test_to_string_of_hand_built_trees_is_semantically_equivalent() -> None:
    right_deep = And(pr("a"), And(pr("b"), pr("c")))
    assert to_string(right_deep) == "a pr and b pr and c pr"
    assert parse_filter(to_string(right_deep)) == And(And(pr("a"), pr("b")), pr("c"))


def test_to_string_rejects_values_that_are_not_json_literals() -> None:
    with pytest.raises(TypeError):
        to_string(Compare(p("a"), "eq", object()))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_string(Compare(p("a"), "eq", Decimal("NaN")))


def test_nodes_are_frozen_and_hashable() -> None:
    node = parse_filter('a eq "x"')
    with pytest.raises(AttributeError):
        node.op = "ne"  # type: ignore[misc]
    assert {node, parse_filter('a EQ "x"')} == {node}


# --------------------------------------------------------------------------------------------------
# PATCH paths (RFC 7644 §3.5.2)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("members", PatchPath(p("members"))),
        ("name.givenName", PatchPath(p("name", "givenName"))),
        ("name.familyName", PatchPath(p("name", "familyName"))),
        ('members[value eq "2819c223"]', PatchPath(p("members"), eq("value", "2819c223"))),
        (
            'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
            PatchPath(p("members"), eq("value", "2819c223-7f76-453a-919d-413861904646")),
        ),
        ('emails[type eq "work"].value', PatchPath(p("emails"), eq("type", "work"), "value")),
        (
            'addresses[type eq "work"].streetAddress',
            PatchPath(p("addresses"), eq("type", "work"), "streetAddress"),
        ),
        (
            'emails[type eq "work" and value ew "example.com"]',
            PatchPath(p("emails"), And(eq("type", "work"), Compare(p("value"), "ew", "example.com"))),
        ),
        (f"{ENTERPRISE_USER}:department", PatchPath(AttrPath(ENTERPRISE_USER, "department", None))),
        (f"{ENTERPRISE_USER}:manager.value", PatchPath(AttrPath(ENTERPRISE_USER, "manager", "value"))),
        (ENTERPRISE_USER, PatchPath(AttrPath(ENTERPRISE_USER, None, None))),
        (CORE_USER, PatchPath(AttrPath(CORE_USER, None, None))),
        (
            "urn:ietf:params:scim:schemas:extension:acme:2.0:User",
            PatchPath(AttrPath("urn:ietf:params:scim:schemas:extension:acme:2.0:User", None, None)),
        ),
        (
            "urn:okta:custom:1.0:User:costCenter",
            PatchPath(AttrPath("urn:okta:custom:1.0:User", "costCenter", None)),
        ),
        (
            f'{CORE_USER}:emails[type eq "work"].display',
            PatchPath(AttrPath(CORE_USER, "emails", None), eq("type", "work"), "display"),
        ),
        ("members.$ref", PatchPath(p("members", "$ref"))),
        (' emails [ type EQ "work" ].value ', PatchPath(p("emails"), eq("type", "work"), "value")),
    ],
)
def test_patch_paths(text: str, expected: PatchPath) -> None:
    parsed = parse_patch_path(text)
    assert parsed == expected
    assert parse_patch_path(to_string(parsed)) == parsed


def test_patch_path_renders_canonically() -> None:
    assert str(parse_patch_path('emails[type EQ "work"].value')) == 'emails[type eq "work"].value'
    assert str(parse_patch_path(ENTERPRISE_USER)) == ENTERPRISE_USER


def test_patch_path_schema_urns_can_be_given_explicitly() -> None:
    custom = "urn:example:schemas:Custom"
    assert parse_patch_path(custom, schema_urns=[custom.upper()]) == PatchPath(AttrPath(custom, None, None))
    assert parse_patch_path(custom) == PatchPath(AttrPath("urn:example:schemas", "Custom", None))
    # with an explicit list, only the listed URNs name whole schemas
    assert parse_patch_path(ENTERPRISE_USER, schema_urns=[custom]) == PatchPath(
        AttrPath("urn:ietf:params:scim:schemas:extension:enterprise:2.0", "User", None)
    )


PATH_ERROR_CASES = [
    ("", "path is empty"),
    ('[value eq "x"]', "unexpected token '[' at position 0; expected an attribute path"),
    ("members extra", "unexpected token 'extra' at position 8; expected '[' or the end of the path"),
    (
        'emails[type eq "work"].value.x',
        "invalid sub-attribute '.value.x' at position 22; attribute names start with a letter and contain "
        "only letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a sub-attribute",
    ),
    (
        'emails[type eq "work"] .value',
        "unexpected whitespace before '.value' at position 23; write the sub-attribute right after ']'",
    ),
    (
        'emails[type eq "work"]value',
        "unexpected token 'value' at position 22; expected the end of the path",
    ),
    (
        'emails[type eq "work"][x pr]',
        "unexpected token '[' at position 22; expected the end of the path",
    ),
    (
        'emails[type eq "work"',
        "missing ']' to close '[' at position 6; reached the end of the path at position 21",
    ),
    ("emails]", "unbalanced ']' at position 6: there is no matching '['"),
    (
        'emails[type[x pr] eq "work"]',
        "nested value filter '[' at position 11: a value filter '[...]' cannot contain another one",
    ),
    (
        f'{ENTERPRISE_USER}[x eq "y"]',
        f"unexpected '[' at position {len(ENTERPRISE_USER)}: a value filter needs an attribute, "
        f"not the schema URN '{ENTERPRISE_USER[:37]}...'",
    ),
    (
        "name.",
        "invalid attribute path 'name.' at position 0; attribute names start with a letter and contain only "
        "letters, digits, '-' and '_' (or are '$ref'), with at most one '.' before a sub-attribute",
    ),
    ('emails[type eq work"x"]', "missing whitespace between 'work' and '\"x\"' at position 19"),
    ('emails[type eq work"]', "unterminated string starting at position 19; a closing '\"' is missing"),
]


@pytest.mark.parametrize(("text", "message"), PATH_ERROR_CASES)
def test_patch_path_errors(text: str, message: str) -> None:
    exc = path_error(text)
    assert str(exc) == message
    assert exc.scim_type == "invalidPath"


def test_patch_path_limits() -> None:
    assert str(path_error("members", max_length=3)) == "path is 7 characters long; the maximum is 3"
    assert "path is nested too deeply at position 6" in str(path_error('emails[type eq "work"]', max_depth=0))
    deep = "emails[" + "(" * 40 + "a pr" + ")" * 40 + "]"
    assert "nested too deeply" in str(path_error(deep))
    huge = sys.getrecursionlimit() * 2
    absurd = "emails[" + "(" * huge + "a pr" + ")" * huge + "]"
    exc = path_error(absurd, max_length=len(absurd), max_depth=huge * 2)
    assert str(exc) == "path is nested too deeply to be parsed"
    assert exc.scim_type == "invalidPath"


# --------------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------------

FRAGMENTS = [
    "userName",
    "emails",
    "name.givenName",
    ".value",
    f"{CORE_USER}:userName",
    ENTERPRISE_USER,
    "urn:",
    ":",
    "eq",
    "EQ",
    "pr",
    "co",
    "gt",
    "and",
    "or",
    "not",
    "NOT",
    "(",
    ")",
    "[",
    "]",
    '"x"',
    '"',
    "\\",
    '"\\u00e9"',
    '"\\ud83d\\ude00"',
    '"\\ud800"',
    "\\u",
    "1",
    "-2.5e3",
    "01",
    "1e99999999999",
    "9" * 5000,
    "true",
    "null",
    "'x'",
    "$ref",
    "\t",
    "\n",
    "\x00",
    "\ud800",
    "é",
]


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_random_text_only_raises_filter_syntax_error(text: str) -> None:
    for parse in (parse_filter, parse_patch_path, parse_attr_path):
        with contextlib.suppress(FilterSyntaxError):
            parse(text)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40),
    st.sampled_from([" ", "", "  "]),
    st.integers(min_value=0, max_value=40),
)
def test_token_soup_only_raises_filter_syntax_error(parts: list[str], separator: str, max_depth: int) -> None:
    text = separator.join(parts)
    for parse in (parse_filter, parse_patch_path):
        try:
            result = parse(text, max_length=10_000, max_depth=max_depth)
        except FilterSyntaxError as exc:
            assert exc.position is None or 0 <= exc.position <= len(text)
        else:
            assert parse(to_string(result), max_length=20_000, max_depth=max_depth) == result


NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,6}", fullmatch=True)
PATHS = st.builds(
    AttrPath,
    st.one_of(st.none(), st.sampled_from([CORE_USER, "urn:okta:custom:1.0:User"])),
    NAMES,
    st.one_of(st.none(), NAMES),
)
VALUES = st.one_of(
    st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=10),  # no NUL
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: d.as_tuple().exponent < 0 and (not d or -1000 <= d.adjusted() < 1000)  # type: ignore[operator]
    ),
    st.booleans(),
    st.none(),
)
LEAVES = st.one_of(
    st.builds(Compare, PATHS, st.sampled_from(COMPARE_OPERATORS), VALUES),
    st.builds(Present, PATHS),
)


def _compound(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(And, children, children),
        st.builds(Or, children, children),
        st.builds(Not, children),
    )


INNER_FILTERS = st.recursive(LEAVES, _compound, max_leaves=6)
FILTERS = st.recursive(
    st.one_of(LEAVES, st.builds(ValuePath, PATHS, INNER_FILTERS)),
    _compound,
    max_leaves=12,
)


def _evaluate(node: Expr, truth: dict[str, bool]) -> bool:
    """Evaluate with each leaf's truth taken from ``truth`` (by canonical text)."""
    if isinstance(node, And):
        return _evaluate(node.left, truth) and _evaluate(node.right, truth)
    if isinstance(node, Or):
        return _evaluate(node.left, truth) or _evaluate(node.right, truth)
    if isinstance(node, Not):
        return not _evaluate(node.expr, truth)
    return truth.setdefault(to_string(node), random.Random(to_string(node)).random() < 0.5)


@settings(max_examples=500, deadline=None)
@given(FILTERS, st.randoms(use_true_random=False))
def test_rendered_trees_parse_back_to_equivalent_trees(tree: Expr, rnd: random.Random) -> None:
    text = to_string(tree)
    parsed = parse_filter(text, max_length=100_000)
    assert to_string(parsed) == text
    assert parse_filter(to_string(parsed), max_length=100_000) == parsed
    for _ in range(4):
        truth: dict[str, bool] = {}
        seed = rnd.random()
        leaves = sorted({to_string(leaf) for leaf in _leaves(tree)})
        for leaf in leaves:
            truth[leaf] = random.Random(f"{seed}{leaf}").random() < 0.5
        assert _evaluate(parsed, truth) == _evaluate(tree, truth)


def _leaves(node: Expr) -> list[Expr]:
    if isinstance(node, And | Or):
        return _leaves(node.left) + _leaves(node.right)
    if isinstance(node, Not):
        return _leaves(node.expr)
    return [node]


@settings(max_examples=200, deadline=None)
@given(PATHS, st.one_of(st.none(), INNER_FILTERS), st.one_of(st.none(), NAMES))
def test_rendered_patch_paths_parse_back(attr: AttrPath, value_filter: Expr | None, sub_attr: str | None) -> None:
    if value_filter is None:
        sub_attr = None
    path = PatchPath(attr, value_filter, sub_attr)
    parsed = parse_patch_path(to_string(path), max_length=100_000)
    assert to_string(parsed) == to_string(path)
    assert parsed.attr == attr
    assert parsed.sub_attr == sub_attr


# The fast path of `attr eq "string"` (parser._SIMPLE_EQ) must give exactly what the grammar gives, and leave to the
# grammar (and its errors) everything that is not that shape.
_NAMES = st.sampled_from(
    ["userName", "externalId", "displayName", "id", "name", "a-b_9", "A", "and", "not", "EQ", "pr"]
)
_SPACE = st.text(alphabet=" \t\r\n", min_size=1, max_size=3)
_STRING_BODY = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0, max_codepoint=0x2FFF), max_size=12
) | st.sampled_from(['x\\"y', "\\u00e9", "a\\\\b", "\x00", "\x1f", "", "é", "Emile+1@example.com"])


def _grammar(text: str) -> Expr | str:
    from scim.filters import parser

    try:
        p = parser._Parser(parser._tokenize(text), max_depth=32, noun="filter")
        expr = p.parse_or(in_brackets=False)
        p.expect_end()
    except FilterSyntaxError as exc:
        return f"error: {exc}"
    return expr


def _fast(text: str) -> Expr | str:
    try:
        return parse_filter(text)
    except FilterSyntaxError as exc:
        return f"error: {exc}"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    lead=st.sampled_from(["", " ", "\t"]),
    attr=_NAMES,
    sub=st.sampled_from([None, "familyName", "value", "9x"]),
    space1=_SPACE,
    op=st.sampled_from(["eq", "EQ", "Eq", "ne", "eq"]),
    space2=_SPACE | st.just(""),
    body=_STRING_BODY,
    trail=st.sampled_from(["", " ", "\n", " and active eq true", ")", "x"]),
)
def test_the_fast_path_of_attr_eq_string_answers_what_the_grammar_answers(
    lead: str, attr: str, sub: str | None, space1: str, op: str, space2: str, body: str, trail: str
) -> None:
    text = f'{lead}{attr}{"." + sub if sub else ""}{space1}{op}{space2}"{body}"{trail}'
    if not text.strip(" \t\r\n"):
        return
    assert _fast(text) == _grammar(text)


def test_the_fast_path_serves_okta_lookups() -> None:
    from scim.filters import parser

    assert parser._SIMPLE_EQ.fullmatch('userName eq "jane.doe@example.com"')
    assert parse_filter('userName eq "jane.doe@example.com"') == Compare(
        AttrPath(None, "userName", None), "eq", "jane.doe@example.com"
    )
    assert parse_filter('name.familyName EQ "O\'Hara"') == Compare(AttrPath(None, "name", "familyName"), "eq", "O'Hara")
    # Escapes, URNs and keywords as names go the general way, with the same result.
    assert parse_filter('userName eq "a\\"b"') == Compare(AttrPath(None, "userName", None), "eq", 'a"b')
    assert not parser._SIMPLE_EQ.fullmatch('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"')
