"""Create an Okta realm from a shell, for scripted set-ups."""

import json
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from realms import services, urls_helpers
from realms.console.forms import validate_idp_metadata
from realms.models import Realm


def realm_json(realm: Realm) -> dict:
    return {
        "uuid": str(realm.pk),
        "name": realm.name,
        "backend": realm.backend,
        "scim_enabled": realm.scim_enabled,
        "scim_root_url": urls_helpers.scim_root_url(realm.pk) if realm.scim_enabled else None,
        "saml_metadata_url": urls_helpers.saml_metadata_url(realm.pk),
        "saml_acs_url": urls_helpers.saml_acs_url(realm.pk),
    }


class Command(BaseCommand):
    help = "Create an Okta realm. Absolute URLs use PUBLIC_BASE_URL (default http://127.0.0.1:8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        scim = parser.add_mutually_exclusive_group()
        scim.add_argument("--scim", dest="scim", action="store_true", default=False, help="Enable SCIM.")
        scim.add_argument("--no-scim", dest="scim", action="store_false", help="Leave SCIM disabled (default).")
        parser.add_argument("--idp-metadata", metavar="FILE", help="The Okta app's SAML IdP metadata XML file.")
        parser.add_argument("--enabled-for-login", action="store_true")
        parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")

    def handle(self, *args, **options) -> None:
        metadata = ""
        if options["idp_metadata"]:
            path = Path(options["idp_metadata"])
            try:
                metadata = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"Cannot read the IdP metadata file {path}: {exc}") from None
            try:
                validate_idp_metadata(metadata)
            except forms.ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        if options["enabled_for_login"] and not metadata:
            raise CommandError("--enabled-for-login needs --idp-metadata.")
        try:
            # All or nothing: what is printed (the URLs) is computed before the commit, so a failure leaves no realm
            # behind that the caller was never told about.
            with transaction.atomic():
                realm = services.create_realm(
                    options["name"],
                    scim_enabled=options["scim"],
                    idp_metadata=metadata,
                    enabled_for_login=options["enabled_for_login"],
                )
                data = realm_json(realm)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"Realm {realm.name} created ({realm.pk}).")
        if realm.scim_enabled:
            self.stdout.write(f"SCIM root URL: {data['scim_root_url']}")
        self.stdout.write(f"SAML ACS URL: {data['saml_acs_url']}")
        self.stdout.write(f"SAML SP metadata URL (entity id): {data['saml_metadata_url']}")
