"""The small defects a new Okta admin noticed (issue 17), each shown as the admin met it."""

import io
import logging
import re
import subprocess
from pathlib import Path

from django.core.management import call_command

from ..factories import RealmFactory, RealmGroupFactory, RealmGroupMembershipFactory, RealmUserFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def test_make_serve_prints_the_login_url_of_the_port_it_serves():
    plan = subprocess.run(
        ["make", "-n", "serve", "PORT=8043"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "ensure_admin --url http://127.0.0.1:8043" in plan and "runserver 127.0.0.1:8043" in plan


def test_ensure_admin_prints_the_login_url_it_is_given(db):
    out = io.StringIO()
    call_command("ensure_admin", "--url", "http://127.0.0.1:8043", stdout=out)
    assert "Log in at http://127.0.0.1:8043/login/ with" in out.getvalue()
    out = io.StringIO()
    call_command("ensure_admin", "--url", "http://127.0.0.1:8043/", stdout=out)
    assert "http://127.0.0.1:8043/login/" in out.getvalue() and "8000" not in out.getvalue()


def test_the_sign_in_help_text_reads_whole_in_the_admin_and_the_console(admin_client):
    for url in ("/admin/realms/realm/add/", "/realms/create/"):
        page = admin_client.get(url).content.decode()
        assert "Offer a “Sign in with …” button named after this realm on the console login page" in page, url
        assert "Sign in with '" not in page and "<realm>" not in page


def test_user_lists_sort_accented_names_with_their_base_letter(admin_client):
    realm = RealmFactory()
    group = RealmGroupFactory(realm=realm, display_name="Everyone")
    for name in ("zoé", "émile", "Åsa", "bob", "Ölaf", "anna"):
        RealmGroupMembershipFactory(group=group, user=RealmUserFactory(realm=realm, username=name))
    expected = ["anna", "Åsa", "bob", "émile", "Ölaf", "zoé"]
    users = admin_client.get(f"/realms/{realm.pk}/users/").content.decode()
    assert re.findall(r'/users/[0-9a-f-]{36}/">([^<]+)</a>', users) == expected
    by_username = admin_client.get(f"/realms/{realm.pk}/users/", {"o": "-username"}).content.decode()
    assert re.findall(r'/users/[0-9a-f-]{36}/">([^<]+)</a>', by_username) == expected[::-1]
    members = admin_client.get(f"/realms/{realm.pk}/groups/{group.pk}/").content.decode()
    assert re.findall(r'/users/[0-9a-f-]{36}/">([^<]+)</a>', members) == expected
    for name in ("Zeta", "Älpler", "alpha"):
        RealmGroupFactory(realm=realm, display_name=name)
    groups = admin_client.get(f"/realms/{realm.pk}/groups/").content.decode()
    assert re.findall(r'/groups/[0-9a-f-]{36}/">([^<]+)</a>', groups) == ["alpha", "Älpler", "Everyone", "Zeta"]


def test_a_403_is_one_line_in_the_server_log_without_a_traceback(client, db):
    client.force_login(UserFactory(username="nobody"))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        assert client.get("/realms/").status_code == 403
    finally:
        logger.removeHandler(handler)
    log = stream.getvalue()
    assert "Forbidden" in log and "/realms/" in log
    assert "Traceback" not in log and "PermissionDenied" not in log


def test_the_sp_metadata_link_shows_xml_in_a_browser_and_serves_tools_the_saml_type(client, db):
    realm = RealmFactory()
    browser = client.get(
        f"/realms/{realm.pk}/saml/metadata/", HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9"
    )
    assert browser.status_code == 200 and browser["Content-Type"] == "application/xml; charset=utf-8"
    assert "attachment" not in browser.get("Content-Disposition", "") and b"EntityDescriptor" in browser.content
    tool = client.get(f"/realms/{realm.pk}/saml/metadata/", HTTP_ACCEPT="*/*")
    assert tool["Content-Type"] == "application/samlmetadata+xml" and "Accept" in tool["Vary"]
