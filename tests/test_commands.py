"""The operator's management commands, with --json as the design notes specify."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from realms.models import APIToken, Realm, ServiceAccount
from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services
from realms.services.accounts import authenticate_token
from tests.factories import User

from .factories import GroupFactory


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_realm_json(db, settings):
    settings.REALMS = {**settings.REALMS, "PUBLIC_BASE_URL": "https://console.example.com"}
    data = json.loads(run("create_realm", "--name", "Okta", "--scim", "--json"))
    realm = Realm.objects.get(name="Okta")
    assert data == {
        "uuid": str(realm.pk),
        "name": "Okta",
        "backend": "okta",
        "scim_enabled": True,
        "scim_root_url": f"https://console.example.com/api/realms/{realm.pk}/scim/v2",
        "saml_metadata_url": f"https://console.example.com/realms/{realm.pk}/saml/metadata/",
        "saml_acs_url": f"https://console.example.com/realms/{realm.pk}/saml/acs/",
    }


def test_create_realm_defaults_to_local_base_url_and_no_scim(db):
    data = json.loads(run("create_realm", "--name", "Okta", "--no-scim", "--json"))
    assert data["scim_enabled"] is False
    assert data["scim_root_url"] is None
    assert data["saml_acs_url"].startswith("http://127.0.0.1:8000/realms/")


def test_create_realm_with_metadata_and_login(db, tmp_path, idp_metadata):
    path = tmp_path / "metadata.xml"
    path.write_text(idp_metadata)
    data = json.loads(
        run("create_realm", "--name", "Okta", "--idp-metadata", str(path), "--enabled-for-login", "--json")
    )
    realm = Realm.objects.get(pk=data["uuid"])
    assert realm.enabled_for_login and "IDPSSODescriptor" in realm.idp_metadata


def test_create_realm_errors(db, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<nope/>")
    with pytest.raises(CommandError, match="EntityDescriptor"):
        run("create_realm", "--name", "X", "--idp-metadata", str(bad))
    with pytest.raises(CommandError, match="Cannot read"):
        run("create_realm", "--name", "X", "--idp-metadata", str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match="needs --idp-metadata"):
        run("create_realm", "--name", "X", "--enabled-for-login")
    run("create_realm", "--name", "X")
    with pytest.raises(CommandError, match="already exists"):
        run("create_realm", "--name", "X")


def test_create_realm_human_output(db):
    out = run("create_realm", "--name", "Okta", "--scim")
    assert "SCIM root URL: http://127.0.0.1:8000/api/realms/" in out


def test_create_service_account_json(db):
    group = GroupFactory(name="SCIM")
    data = json.loads(run("create_service_account", "okta", "--group", "SCIM", "--description", "Okta", "--json"))
    assert set(data) == {"username", "token"}
    account = ServiceAccount.objects.get(user__username="okta")
    assert account.description == "Okta" and list(account.user.groups.all()) == [group]
    assert authenticate_token(data["token"]).user == account.user


def test_create_service_account_errors(db):
    with pytest.raises(CommandError, match="does not exist"):
        run("create_service_account", "okta", "--group", "Nope")
    assert not User.objects.exists()
    run("create_service_account", "okta")
    with pytest.raises(CommandError, match="already exists"):
        run("create_service_account", "okta")


def test_scim_quickstart_json_and_rerun(db):
    data = json.loads(run("scim_quickstart", "--realm", "Okta Prod", "--json"))
    assert set(data) == {"realm_uuid", "realm_name", "scim_root_url", "group", "service_account", "token"}
    realm = Realm.objects.get(pk=data["realm_uuid"])
    assert realm.scim_enabled and realm.backend == "okta"
    assert data["scim_root_url"] == f"http://127.0.0.1:8000/api/realms/{realm.pk}/scim/v2"
    account = ServiceAccount.objects.get(user__username=data["service_account"]).user
    assert account.has_perms([f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])
    assert authenticate_token(data["token"]).user == account

    again = json.loads(run("scim_quickstart", "--realm", "Okta Prod", "--json"))
    assert again["realm_uuid"] == data["realm_uuid"]
    assert again["service_account"] == data["service_account"]
    assert again["token"] != data["token"]
    assert APIToken.objects.filter(user=account).count() == 2
    assert Realm.objects.count() == 1


def test_scim_quickstart_enables_scim_on_an_existing_realm(db):
    Realm.objects.create(name="Okta", scim_enabled=False)
    run("scim_quickstart", "--realm", "Okta")
    assert Realm.objects.get(name="Okta").scim_enabled


def test_ensure_admin_creates_one_admin_once(db):
    data = json.loads(run("ensure_admin", "--json"))
    assert data["created"] is True
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(data["password"])
    assert json.loads(run("ensure_admin", "--json")) == {"created": False}


def test_commands_print_one_json_object_on_stdout_through_manage_py(tmp_path):
    """As a shell script calls them: stdout must parse as one JSON object (logs go to stderr)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    manage("migrate", "--noinput", "-v0")
    realm = json.loads(manage("create_realm", "--name", "Shell", "--scim", "--json"))
    quick = json.loads(manage("scim_quickstart", "--realm", "Shell", "--json"))
    account = json.loads(manage("create_service_account", "robot", "--group", quick["group"], "--json"))
    assert quick["realm_uuid"] == realm["uuid"]
    assert account["username"] == "robot" and account["token"].startswith("zrlm_")


def test_scim_quickstart_names_the_service_account_when_asked(db):
    data = json.loads(run("scim_quickstart", "--realm", "Okta", "--service-account", "okta-scim@example.com", "--json"))
    assert data["service_account"] == "okta-scim@example.com"
    assert authenticate_token(data["token"]).user.get_username() == "okta-scim@example.com"


# Every command does all it says or nothing: a failure half-way leaves no realm, account, token or group behind
# (a token whose secret was never shown could never be used, nor told apart from a leaked one).


def _boom(*args, **kwargs):
    raise RuntimeError("failed half-way")


def _nothing_left() -> None:
    from django.contrib.auth.models import Group

    assert not Realm.objects.exists()
    assert not ServiceAccount.objects.exists()
    assert not APIToken.objects.exists()
    assert not User.objects.exists()
    assert not Group.objects.exists()


def test_scim_quickstart_is_all_or_nothing(db, monkeypatch):
    from realms import urls_helpers

    # The root URL is computed last, after the realm, group, account and token exist.
    monkeypatch.setattr(urls_helpers, "scim_root_url", _boom)
    with pytest.raises(RuntimeError, match="half-way"):
        run("scim_quickstart", "--realm", "Okta", "--json")
    _nothing_left()


def test_scim_quickstart_leaves_a_reused_realm_as_it_was_on_failure(db, monkeypatch):
    from realms import urls_helpers

    realm = Realm.objects.create(name="Okta", scim_enabled=False)
    monkeypatch.setattr(urls_helpers, "scim_root_url", _boom)
    with pytest.raises(RuntimeError):
        run("scim_quickstart", "--realm", "Okta")
    realm.refresh_from_db()
    assert not realm.scim_enabled
    assert not APIToken.objects.exists() and not ServiceAccount.objects.exists()


def test_create_realm_is_all_or_nothing(db, monkeypatch):
    from realms import urls_helpers

    monkeypatch.setattr(urls_helpers, "saml_acs_url", _boom)
    with pytest.raises(RuntimeError, match="half-way"):
        run("create_realm", "--name", "Okta", "--scim", "--json")
    _nothing_left()


def test_create_service_account_is_all_or_nothing(db, monkeypatch):
    GroupFactory(name="SCIM")
    monkeypatch.setattr(account_services, "issue_token", _boom)  # after the account and its groups exist
    with pytest.raises(RuntimeError, match="half-way"):
        run("create_service_account", "okta", "--group", "SCIM", "--json")
    assert not User.objects.exists() and not ServiceAccount.objects.exists() and not APIToken.objects.exists()


def test_scim_quickstart_run_again_says_the_earlier_token_still_works(db):
    assert "earlier token" not in run("scim_quickstart", "--realm", "Okta")
    assert "1 earlier token of this realm still works" in run("scim_quickstart", "--realm", "okta")
    out = run("scim_quickstart", "--realm", "OKTA")  # the same realm, in any letter case
    assert "2 earlier tokens of this realm still work: revoke them" in out
    assert Realm.objects.count() == 1
