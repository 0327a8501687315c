from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "SCIM"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from realms import extensions

        from . import checks

        # The request log's panel on a realm's page and its SCIM requests page (scim.console).
        extensions.register("scim.console")
        checks.register_checks()
