"""What keeps a service account a service account, whatever the host's user model and authentication backends.

A service account's user authenticates with API tokens only: it never has a usable password, is never staff or
superuser (whoever saves it, the Django admin included), and any login that lets it through a backend (a host's
SSO, RemoteUserBackend, a backend that ignores passwords) is undone before a session is handed out.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.signals import user_logged_in
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete, pre_save

from .models import Realm, ServiceAccount, is_service_account
from .sql.search import fold
from .sql.token_query import permission_names

logger = logging.getLogger(__name__)

_GUARDED_FIELDS = {"password", "is_staff", "is_superuser"}


def keep_service_account_unprivileged(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Before a user is saved: a service account's user gets no usable password and no staff/superuser flag."""
    if instance.pk is None or (update_fields is not None and not _GUARDED_FIELDS & set(update_fields)):
        return
    if not ServiceAccount.objects.filter(user_id=instance.pk).exists():
        return
    if getattr(instance, "is_staff", False) or getattr(instance, "is_superuser", False):
        logger.warning("Service account %s cannot be staff or superuser: flags cleared", instance.get_username())
    if hasattr(instance, "is_staff"):
        instance.is_staff = False
    if hasattr(instance, "is_superuser"):
        instance.is_superuser = False
    if instance.has_usable_password():
        instance.set_unusable_password()


def refuse_service_account_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A service account that got through an authentication backend gets no session: the login is undone."""
    if not is_service_account(user):
        return
    logger.warning("Login refused for service account %s", user.get_username())
    if request is not None and hasattr(request, "session"):
        request.session.flush()
    raise PermissionDenied("Service accounts authenticate with API tokens only; they cannot log in.")


def realm_sign_in_ended_on_save(sender: Any, instance: Realm, update_fields: Any = None, **kwargs: Any) -> None:
    """Before a realm is saved with its login turned off: the roles it gave and the sessions opened through it go,
    in the saving transaction (the admin's and the console's are atomic), whoever saves it."""
    if instance.pk is None or instance.enabled_for_login:
        return
    if update_fields is not None and "enabled_for_login" not in update_fields:
        return
    if Realm.objects.filter(pk=instance.pk, enabled_for_login=True).exists():
        from .services import Actor, roles

        roles.on_realm_sign_in_ended(instance, Actor(source="console"), "login turned off")


def realm_sign_in_ended_on_delete(sender: Any, instance: Realm, **kwargs: Any) -> None:
    """Before a realm is deleted (admin, shell, anything): its roles and sessions go first (the links that say
    whom they were given to are deleted with it)."""
    from .models import AuditEvent
    from .services import Actor, roles

    roles.on_realm_sign_in_ended(instance, Actor(source="console"), "realm deleted")
    # The trail outlives the realm (realm NULL), the revocations just recorded included: the deletion's own
    # SET_NULL only covers the events it collected before this signal.
    AuditEvent.objects.filter(realm=instance).update(realm=None)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def sqlite_unicode_lower(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite's built-in lower() folds ASCII letters only; PostgreSQL's folds every letter. userName and
    displayName are unique per realm case-insensitively (RFC 7643 §4.1.1), through indexes on lower(), and `eq`
    filters compare lower() of both sides: on SQLite, lower() is replaced on every connection by Python's
    str.lower (deterministic, so indexes may use it), and "Émile" and "émile" are one user on both databases.
    """
    if connection.vendor == "sqlite":
        connection.connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        # The console's case- and accent-insensitive search (realms.sql.search): PostgreSQL runs translate(lower()).
        connection.connection.create_function("realms_fold", 1, fold, deterministic=True)


def connect() -> None:
    connection_created.connect(sqlite_unicode_lower, dispatch_uid="realms_sqlite_unicode_lower")
    pre_save.connect(realm_sign_in_ended_on_save, sender=Realm, dispatch_uid="realms_realm_login_off")
    pre_delete.connect(realm_sign_in_ended_on_delete, sender=Realm, dispatch_uid="realms_realm_deleted")
    pre_save.connect(
        keep_service_account_unprivileged, sender=get_user_model(), dispatch_uid="realms_service_account_unprivileged"
    )
    user_logged_in.connect(refuse_service_account_login, dispatch_uid="realms_service_account_login")
    # The map of permission names read with API tokens (realms.sql.token_query): read again after a change.
    for model in (Permission, ContentType):
        for signal in (post_save, post_delete):
            uid = f"realms_permission_names_{signal is post_save}_{model.__name__}"
            signal.connect(permission_names.clear, sender=model, dispatch_uid=uid)
    post_migrate.connect(permission_names.clear, dispatch_uid="realms_permission_names_migrated")
