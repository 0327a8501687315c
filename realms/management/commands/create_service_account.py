"""Create a service account (optionally in groups) and issue its first API token."""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from realms.services import accounts as services


class Command(BaseCommand):
    help = "Create a service account and print its API token (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            dest="groups",
            metavar="NAME",
            help="Name of an existing Django group to add the account to (repeatable).",
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")

    def handle(self, *args, **options) -> None:
        username = options["username"]
        user_model = get_user_model()
        if user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        groups = []
        for name in options["groups"]:
            group = Group.objects.filter(name=name).first()
            if group is None:
                raise CommandError(f"Group {name!r} does not exist. Create it first (console or Django admin).")
            groups.append(group)
        try:
            # All or nothing: the account and its token, with what is printed computed before the commit; a failure
            # leaves no account whose token was never shown.
            with transaction.atomic():
                account = services.create_service_account(username, description=options["description"], groups=groups)
                issued = services.issue_token(account.user, name="Initial token")
                data = {"username": account.username, "token": issued.secret}
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["json"]:
            self.stdout.write(json.dumps(data))
        else:
            self.stdout.write(f"Service account {account.username} created.")
            if groups:
                self.stdout.write("Groups: " + ", ".join(g.name for g in groups))
            self.stdout.write(f"API token (shown once, copy it now): {issued.secret}")
