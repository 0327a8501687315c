from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "SCIM"
    default_auto_field = "django.db.models.BigAutoField"
