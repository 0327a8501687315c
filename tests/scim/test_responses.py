"""The bytes of SCIM responses (scim.responses.SCIMResponse): what DRF's JSONRenderer wrote with its defaults, which
IdPs have parsed since the first release, now rendered by the SCIM layer as each response is created."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from scim.negotiation import SCIMRenderer
from scim.responses import SCIMResponse

from .conftest import okta_user

pytestmark = pytest.mark.django_db

ODD_NAME = "Zoë \u2028 Ødegård \u2029 山田 😀"
# ODD_NAME as a SCIM body holds it: compact, non-ASCII as UTF-8, U+2028 and U+2029 as escapes (what DRF wrote).
ODD_NAME_JSON = '"givenName":"Zoë \\u2028 Ødegård \\u2029 山田 😀"'.encode()


def test_a_resource_is_compact_utf8_json_with_the_javascript_line_separators_escaped(scim):
    user = okta_user("zoe@example.com", given=ODD_NAME)
    created = scim.post("/Users", user)
    assert created.status_code == 201, created.content
    assert created["Content-Type"] == "application/scim+json"
    body = created.content
    assert ODD_NAME_JSON in body
    assert b", " not in body and b": " not in body
    assert json.loads(body)["name"]["givenName"] == ODD_NAME
    assert body == JSONRenderer().render(json.loads(body))  # byte for byte, DRF's defaults
    fetched = scim.get(f"/Users/{created.json()['id']}")
    assert ODD_NAME_JSON in fetched.content
    assert fetched.content == JSONRenderer().render(fetched.json())


def test_errors_are_scim_json_too_and_204_and_304_have_no_body_and_no_content_type(scim):
    missing = scim.get("/Users/nope")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/scim+json"
    assert missing.content == JSONRenderer().render(missing.json())
    created = scim.post("/Users", okta_user("ann@example.com")).json()
    unchanged = scim.get(f"/Users/{created['id']}", headers={"If-None-Match": 'W/"1"'})
    assert unchanged.status_code == 304 and unchanged.content == b"" and "Content-Type" not in unchanged
    assert unchanged["ETag"] == 'W/"1"'
    deleted = scim.delete(f"/Users/{created['id']}")
    assert deleted.status_code == 204 and deleted.content == b"" and "Content-Type" not in deleted


def test_drf_renders_what_it_still_renders_for_a_scim_view_with_the_same_bytes():
    data = {"a": [1, 2.5, None, True], "b": ODD_NAME, "c": {"d": "e"}}
    response = SCIMResponse(data, status=200)
    assert SCIMRenderer().render(data) == response.content == JSONRenderer().render(data)
    assert response.data is data
    with pytest.raises(ValueError):  # no NaN or Infinity in a SCIM body: they are not JSON
        SCIMResponse({"x": float("nan")})


def test_a_host_json_settings_do_not_change_scim_bodies(scim, monkeypatch):
    """DRF binds COMPACT_JSON, UNICODE_JSON and STRICT_JSON to JSONRenderer when it is imported, from the host's
    REST_FRAMEWORK; set as a host's settings would have set them, SCIM bodies stay compact UTF-8."""
    monkeypatch.setattr(JSONRenderer, "compact", False)
    monkeypatch.setattr(JSONRenderer, "ensure_ascii", True)
    monkeypatch.setattr(JSONRenderer, "strict", False)
    created = scim.post("/Users", okta_user("zoe@example.com", given=ODD_NAME))
    assert created.status_code == 201, created.content
    assert ODD_NAME_JSON in created.content
    assert b", " not in created.content and b": " not in created.content
