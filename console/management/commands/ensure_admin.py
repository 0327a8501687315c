"""Create a first console administrator when there is none, and print its login once."""

import json
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Create the first console superuser if no superuser exists; print its password once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="Where the console is served (make serve passes its HOST and PORT), for the login link printed.",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        login_url = options["url"].rstrip("/") + "/login/"
        if User.objects.filter(is_superuser=True, is_active=True).exists():
            if options["json"]:
                self.stdout.write(json.dumps({"created": False}))
            else:
                self.stdout.write(
                    f"A console administrator already exists; log in with your own account at {login_url}"
                )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=options["username"], email="", password=password)
        if options["json"]:
            self.stdout.write(json.dumps({"created": True, "username": options["username"], "password": password}))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"First console administrator created. Log in at {login_url} with\n"
                f"    username: {options['username']}\n"
                f"    password: {password}\n"
                "This password is shown once; change it after logging in (Django admin > Users)."
            )
        )
