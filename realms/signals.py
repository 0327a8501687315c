"""What keeps a service account a service account, whatever the host's user model and authentication backends.

A service account's user authenticates with API tokens only: it never has a usable password, is never staff or
superuser (whoever saves it, the Django admin included), and any login that lets it through a backend (a host's
SSO, RemoteUserBackend, a backend that ignores passwords) is undone before a session is handed out.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.db.models.signals import pre_save

from .models import ServiceAccount, is_service_account

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


def connect() -> None:
    pre_save.connect(
        keep_service_account_unprivileged, sender=get_user_model(), dispatch_uid="realms_service_account_unprivileged"
    )
    user_logged_in.connect(refuse_service_account_login, dispatch_uid="realms_service_account_login")
