"""Everything Okta's Provisioning tab needs, in one command."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from realms import services, urls_helpers
from realms.services.setup import realm_tokens


class Command(BaseCommand):
    help = (
        "Create or reuse an Okta realm with SCIM enabled, a group with the eight realmuser/realmgroup permissions, "
        "a service account in it, and issue a fresh API token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--realm", required=True, metavar="NAME")
        parser.add_argument(
            "--service-account",
            metavar="USERNAME",
            help="Username of the service account (default scim-<realm>; give an email if usernames are emails).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")

    def handle(self, *args, **options) -> None:
        try:
            # All or nothing: what is printed is computed before the commit, so a failure leaves no realm, account
            # or token whose secret was never shown.
            with transaction.atomic():
                result = services.scim_quickstart(options["realm"], options["service_account"])
                data = {
                    "realm_uuid": str(result.realm.pk),
                    "realm_name": result.realm.name,
                    "scim_root_url": urls_helpers.scim_root_url(result.realm.pk),
                    "group": result.group.name,
                    "service_account": result.service_account.username,
                    "token": result.token,
                }
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"Realm {data['realm_name']} {'created' if result.realm_created else 'reused'}.")
        self.stdout.write(f"Group {data['group']} and service account {data['service_account']} ready.")
        self.stdout.write("In Okta's Provisioning tab:")
        self.stdout.write(f"  SCIM connector base URL: {data['scim_root_url']}")
        self.stdout.write("  Unique identifier field for users: userName")
        self.stdout.write("  Authentication mode: HTTP Header")
        self.stdout.write(f"  Authorization (Bearer) token, shown once: {data['token']}")
        earlier = realm_tokens(result.realm).count() - 1
        if earlier > 0:
            tokens = (
                "1 earlier token of this realm still works"
                if earlier == 1
                else f"{earlier} earlier tokens of this realm still work"
            )
            self.stdout.write(f"{tokens}: revoke them on the service account's page once Okta uses this one.")
