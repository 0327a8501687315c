import logging
import re

from django.apps import AppConfig


class XMLSchemaAlreadyLoadedFilter(logging.Filter):
    """Drops xmlschema's INFO line "Resource 'XMLSchema.xsd' is already loaded", and nothing else.

    xmlschema logs it while building its meta-schema, when it is first imported (by pysaml2, so by these apps): a
    host whose LOGGING shows INFO printed it on every `manage.py` command. It says nothing to the host."""

    MESSAGE = re.compile(r"Resource '[^']*' is already loaded")

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and self.MESSAGE.fullmatch(record.getMessage()))


def quiet_xmlschema() -> None:
    """Install the filter on the 'xmlschema' logger once (records are filtered by the logger they are logged on)."""
    logger = logging.getLogger("xmlschema")
    if not any(isinstance(f, XMLSchemaAlreadyLoadedFilter) for f in logger.filters):
        logger.addFilter(XMLSchemaAlreadyLoadedFilter())


class RealmsConfig(AppConfig):
    name = "realms"
    verbose_name = "Realms"
    default_auto_field = "django.db.models.BigAutoField"

    def __init__(self, app_name: str, app_module: object) -> None:
        super().__init__(app_name, app_module)
        # Not in ready(): the admin's ready() (an app listed before ours) imports realms.admin, hence pysaml2 and
        # xmlschema, first. App configs are made after LOGGING is applied and before any app is imported.
        quiet_xmlschema()

    def ready(self) -> None:
        from . import checks, receivers

        receivers.connect()
        checks.register_checks()
