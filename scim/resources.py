"""SCIM User and Group representations: request bodies into realm data, realm rows into response bodies.

Incoming resources are normalised against RFC 7643 (canonical attribute names, types checked, Entra's boolean
strings coerced, readOnly and null attributes dropped, `password` never kept) and everything else is kept as
sent, unknown attributes and extensions included: nothing an IdP sends is lost.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from realms.datetimes import utc
from realms.models import RealmGroup, RealmUser
from realms.services import EmailData, GroupData, UserData

from . import schemas as S
from .errors import InvalidSyntax, InvalidValue

# Attributes a client never sets (RFC 7643 §3.1 common readOnly attributes, and the User `groups` attribute).
READ_ONLY_TOP_LEVEL = {"id", "meta", "schemas"}
USER_EXTENSIONS = (S.ENTERPRISE_USER_SCHEMA,)
GROUP_EXTENSIONS: tuple = ()


def _iso(dt) -> str:
    # In UTC whatever the host's USE_TZ (naive datetimes are in TIME_ZONE): RFC 7643 §2.3.5 wants the zone.
    return utc(dt).isoformat().replace("+00:00", "Z")


def etag(version: int) -> str:
    return f'W/"{version}"'


# ------------------------------------------------------------------------------------------ value coercion


def coerce_boolean(value: Any, where: str) -> bool:
    """Booleans, and Entra ID's boolean strings ("True", "False"): Entra sends `"active": "False"` in PATCH."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise InvalidValue(f"'{where}' must be a boolean (true or false), not {_show(value)}.")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _coerce_simple(attribute: S.Attribute, value: Any, where: str) -> Any:
    kind = attribute.type
    if kind == "boolean":
        return coerce_boolean(value, where)
    if kind in {"string", "reference", "dateTime", "binary"}:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return str(value)  # lenient: some IdPs send employeeNumber as a number
        raise InvalidValue(f"'{where}' must be a string, not {_show(value)}.")
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise InvalidValue(f"'{where}' must be an integer, not {_show(value)}.")
    if kind == "decimal":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise InvalidValue(f"'{where}' must be a number, not {_show(value)}.")
    return value


def _entra_complex_from_string(attribute: S.Attribute, value: Any) -> Any:
    """Entra ID sends the enterprise `manager` as the manager's id string, not {"value": id}: wrap it."""
    if isinstance(value, str) and attribute.sub_attribute("value") is not None and not attribute.multi_valued:
        return {"value": value}
    return value


def _normalize_complex(attribute: S.Attribute, value: Any, where: str) -> dict[str, Any]:
    value = _entra_complex_from_string(attribute, value)
    if not isinstance(value, dict):
        raise InvalidValue(f"'{where}' must be an object with sub-attributes, not {_show(value)}.")
    result: dict[str, Any] = {}
    for key, sub_value in value.items():
        if sub_value is None:
            continue
        sub = attribute.sub_attribute(key)
        if sub is None:
            result[key] = copy.deepcopy(sub_value)  # unknown sub-attribute: kept as sent
        else:
            result[sub.name] = _coerce_simple(sub, sub_value, f"{where}.{sub.name}")
    return result


def normalize_attribute(attribute: S.Attribute, value: Any, where: str) -> Any:
    """One attribute's value, checked and coerced against its RFC 7643 definition. None means unassigned."""
    if value is None:
        return None
    if attribute.multi_valued:
        if isinstance(value, dict):
            value = [value]  # lenient: a single value where a list was expected
        if not isinstance(value, list):
            raise InvalidValue(f"'{where}' must be a list, not {_show(value)}.")
        items = []
        for item in value:
            if item is None:
                continue
            if attribute.type == "complex":
                normalized = _normalize_complex(attribute, item, where)
                if normalized:
                    items.append(normalized)
            else:
                items.append(_coerce_simple(attribute, item, where))
        return items or None
    if attribute.type == "complex":
        return _normalize_complex(attribute, value, where) or None
    return _coerce_simple(attribute, value, where)


def _canonical_extension(key: str, extensions: Iterable[S.Schema]) -> S.Schema | None:
    lowered = key.lower()
    for extension in extensions:
        if extension.id.lower() == lowered:
            return extension
    return None


def _split_flattened_extension(key: str, extensions: Iterable[S.Schema]) -> tuple[S.Schema, str] | None:
    """`urn:…:enterprise:2.0:User:department` sent as a top-level key: the extension and the attribute name."""
    lowered = key.lower()
    for extension in extensions:
        prefix = extension.id.lower() + ":"
        if lowered.startswith(prefix) and len(key) > len(prefix):
            return extension, key[len(prefix) :]
    return None


def normalize_resource(
    payload: Any, core: S.Schema, extensions: tuple[S.Schema, ...], *, skip: Iterable[str] = ()
) -> dict[str, Any]:
    """Canonical, type-checked attributes of a resource body; readOnly ones dropped, unknown ones kept."""
    if not isinstance(payload, dict):
        raise InvalidSyntax(f"The request body must be a JSON object, not {type(payload).__name__}.")
    skipped = {s.lower() for s in skip} | READ_ONLY_TOP_LEVEL
    result: dict[str, Any] = {}
    for key, value in payload.items():
        if not isinstance(key, str) or key.lower() in skipped or value is None:
            continue
        attribute = core.attribute(key)
        if attribute is not None:
            if attribute.mutability == "readOnly":
                continue
            normalized = normalize_attribute(attribute, value, attribute.name)
            if normalized is not None:
                result[attribute.name] = normalized
            continue
        if key.lower() == "externalid":
            if not isinstance(value, str):
                raise InvalidValue(f"'externalId' must be a string, not {_show(value)}.")
            result["externalId"] = value
            continue
        extension = _canonical_extension(key, extensions)
        if extension is not None:
            if not isinstance(value, dict):
                raise InvalidValue(f"'{extension.id}' must be an object, not {_show(value)}.")
            container = result.setdefault(extension.id, {})
            container.update(_normalize_extension(extension, value))
            continue
        flattened = _split_flattened_extension(key, extensions)
        if flattened is not None:
            extension, name = flattened
            container = result.setdefault(extension.id, {})
            container.update(_normalize_extension(extension, {name: value}))
            continue
        result[key] = copy.deepcopy(value)  # unknown attribute or custom extension: kept as sent
    for extension in extensions:
        if extension.id in result and not result[extension.id]:
            del result[extension.id]
    return result


def _normalize_extension(extension: S.Schema, value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, sub_value in value.items():
        if sub_value is None:
            continue
        attribute = extension.attribute(key)
        if attribute is None:
            result[key] = copy.deepcopy(sub_value)
            continue
        normalized = normalize_attribute(attribute, sub_value, f"{extension.id}:{attribute.name}")
        if normalized is not None:
            result[attribute.name] = normalized
    return result


# ------------------------------------------------------------------------------------------ users


def user_data_from_attributes(attributes: dict[str, Any]) -> UserData:
    """Derive the indexed columns from a normalised User; check what RFC 7643 §4.1 requires."""
    username = attributes.get("userName")
    if not isinstance(username, str) or not username.strip():
        raise InvalidValue("'userName' is required and must be a non-empty string.", scim_type="invalidValue")
    if len(username) > 255:
        raise InvalidValue("'userName' is longer than 255 characters.")
    external_id = attributes.get("externalId")
    if external_id is not None and len(external_id) > 255:
        raise InvalidValue("'externalId' is longer than 255 characters.")
    active = attributes.get("active", True)
    name = attributes.get("name") if isinstance(attributes.get("name"), dict) else {}
    emails = []
    for email in attributes.get("emails") or []:
        value = email.get("value") if isinstance(email, dict) else None
        if isinstance(value, str) and value:
            emails.append(
                EmailData(value=value, type=str(email.get("type") or ""), primary=email.get("primary") is True)
            )
    return UserData(
        username=username,
        attributes=attributes,
        external_id=external_id or None,
        active=active,
        display_name=str(attributes.get("displayName") or ""),
        given_name=str(name.get("givenName") or ""),
        family_name=str(name.get("familyName") or ""),
        emails=emails,
    )


def parse_user(payload: Any) -> UserData:
    """A POST or PUT body (RFC 7644 §3.3, §3.5.1): `groups` is readOnly and `password` is never stored."""
    attributes = normalize_resource(payload, S.USER_SCHEMA, USER_EXTENSIONS, skip=("groups", "password"))
    return user_data_from_attributes(attributes)


def _extension_urns(attributes: dict[str, Any]) -> list[str]:
    return [k for k, v in attributes.items() if k.lower().startswith("urn:") and isinstance(v, dict)]


def _representation(core_urn: str, obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The start every resource shares (schemas, id, externalId), and its stored attributes."""
    attributes = obj.attributes if isinstance(obj.attributes, dict) else {}
    representation: dict[str, Any] = {"schemas": [core_urn, *_extension_urns(attributes)], "id": str(obj.pk)}
    if obj.external_id:
        representation["externalId"] = obj.external_id
    return representation, attributes


def _meta(resource_type: str, obj: Any, location: str) -> dict[str, Any]:
    """RFC 7643 §3.1 `meta`; `version` is also the ETag (RFC 7644 §3.14)."""
    return {
        "resourceType": resource_type,
        "created": _iso(obj.created_at),
        "lastModified": _iso(obj.updated_at),
        "location": location,
        "version": etag(obj.version),
    }


def render_user(user: RealmUser, location: str, groups: Iterable[tuple[Any, str, str]] | None) -> dict[str, Any]:
    """The full User resource (RFC 7643 §4.1, §8.2). `groups`: (id, displayName, $ref) of each group."""
    representation, attributes = _representation(S.USER_URN, user)
    representation["userName"] = user.username
    for key, value in attributes.items():
        if key not in {"userName", "externalId", "active", "password"}:
            representation[key] = value
    representation["active"] = user.active
    if groups is not None:
        representation["groups"] = [
            {"value": str(gid), "display": display, "$ref": ref, "type": "direct"} for gid, display, ref in groups
        ]
    representation["meta"] = _meta("User", user, location)
    return representation


# ------------------------------------------------------------------------------------------ groups


def parse_member_id(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise InvalidValue(f"A member 'value' must be a user id (string), not {_show(value)}.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidValue(f"No user with id '{value[:80]}' in this realm (a member id is a user's SCIM id).") from None


def parse_members(value: Any) -> list[uuid.UUID]:
    """`members` of a Group (RFC 7643 §4.2): [{"value": "<user id>", "display": …}]. Only users can be members."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise InvalidValue(f"'members' must be a list, not {_show(value)}.")
    ids = []
    for member in value:
        if member is None:
            continue
        if not isinstance(member, dict):
            raise InvalidValue(f"Each member must be an object with a 'value', not {_show(member)}.")
        member_type = member.get("type")
        if isinstance(member_type, str) and member_type.lower() == "group":
            raise InvalidValue("Nested groups are not supported: members must be users of this realm.")
        ids.append(parse_member_id(member.get("value")))
    return ids


def group_data_from_attributes(attributes: dict[str, Any]) -> GroupData:
    display_name = attributes.get("displayName")
    if not isinstance(display_name, str) or not display_name.strip():
        raise InvalidValue("'displayName' is required and must be a non-empty string.")
    if len(display_name) > 255:
        raise InvalidValue("'displayName' is longer than 255 characters.")
    external_id = attributes.get("externalId")
    if external_id is not None and len(external_id) > 255:
        raise InvalidValue("'externalId' is longer than 255 characters.")
    return GroupData(display_name=display_name, attributes=attributes, external_id=external_id or None)


def parse_group(payload: Any) -> tuple[GroupData, list[uuid.UUID] | None]:
    """A POST or PUT body: the group's data, and its member ids (None when `members` is absent)."""
    attributes = normalize_resource(payload, S.GROUP_SCHEMA, GROUP_EXTENSIONS, skip=("members",))
    members = None
    for key, value in payload.items():
        if isinstance(key, str) and key.lower() == "members":
            members = parse_members(value)
    return group_data_from_attributes(attributes), members


def render_group(group: RealmGroup, location: str, members: Iterable[tuple[Any, str, str]] | None) -> dict[str, Any]:
    """The Group resource (RFC 7643 §4.2, §8.4). `members`: (id, display, $ref); None leaves them out."""
    representation, attributes = _representation(S.GROUP_URN, group)
    representation["displayName"] = group.display_name
    for key, value in attributes.items():
        if key not in {"displayName", "externalId", "members"}:
            representation[key] = value
    if members is not None:
        representation["members"] = [
            {"value": str(uid), "display": display, "$ref": ref, "type": "User"} for uid, display, ref in members
        ]
    representation["meta"] = _meta("Group", group, location)
    return representation
