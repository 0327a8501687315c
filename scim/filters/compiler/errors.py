"""The error of a filter that parses but cannot be applied; the SCIM layer answers it as 400 ``invalidFilter``."""

from __future__ import annotations

from typing import Final

__all__ = ["FilterCompileError"]


class FilterCompileError(ValueError):
    """A syntactically valid filter that cannot be applied to this resource type (RFC 7644 §3.4.2.2).

    Why a separate class from :class:`~scim.filters.parser.FilterSyntaxError`: the text parsed, but what it
    asks for is wrong (``active gt true``, ``userName.foo``, an invalid dateTime, ``password``...).  The
    SCIM layer still answers 400 with ``scimType`` :attr:`scim_type` (RFC 7644 §3.12), and the message
    names the attribute and the fix, because it ends up in front of an Okta or Entra ID administrator.
    """

    scim_type: Final = "invalidFilter"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
