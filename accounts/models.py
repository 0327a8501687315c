"""Console users, service accounts and their API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


class User(AbstractUser):
    """A console user, or a service account (`is_service_account`) that only ever authenticates by API token."""

    is_service_account = models.BooleanField(
        default=False,
        editable=False,
        help_text="Service accounts authenticate with API tokens only and can never log into the console.",
    )
    description = models.TextField(blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_service_account=False) | Q(is_superuser=False, is_staff=False),
                name="accounts_service_account_not_privileged",
                violation_error_message="A service account cannot be a superuser or staff member.",
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.is_service_account and (self.is_superuser or self.is_staff):
            raise ValidationError("A service account cannot be a superuser or a staff member.")

    def set_password(self, raw_password: str | None) -> None:
        # A service account has no usable password, whatever a caller asks.
        if self.is_service_account:
            raw_password = None
        super().set_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        if self.is_service_account:
            return False
        return super().check_password(raw_password)

    def save(self, *args, **kwargs) -> None:
        if self.is_service_account and self.has_usable_password():
            self.set_unusable_password()
        super().save(*args, **kwargs)


class ServiceAccountManager(UserManager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(is_service_account=True)


class ConsoleUserManager(UserManager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(is_service_account=False)


class ServiceAccount(User):
    """Proxy over User for the service accounts: own admin, own permissions (accounts.*_serviceaccount)."""

    objects = ServiceAccountManager()

    class Meta:
        proxy = True
        verbose_name = "service account"
        verbose_name_plural = "service accounts"

    def save(self, *args, **kwargs) -> None:
        self.is_service_account = True
        self.is_staff = False
        self.is_superuser = False
        super().save(*args, **kwargs)


class ConsoleUser(User):
    """Proxy over User for the people who log into the console."""

    objects = ConsoleUserManager()

    class Meta:
        proxy = True
        verbose_name = "console user"
        verbose_name_plural = "console users"


class APITokenQuerySet(models.QuerySet):
    def active(self) -> APITokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class APIToken(models.Model):
    """An API token. Only its SHA-256 is stored; the secret is shown once, when it is issued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'Okta provisioning'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=8, editable=False, help_text="Last characters of the token.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty for a token that never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    realm = models.ForeignKey(
        "realms.Realm",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Restrict the token to this realm's SCIM API (404 on every other realm). Empty: every realm.",
    )

    objects = APITokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @property
    def masked(self) -> str:
        from .conf import app_settings

        return f"{app_settings.TOKEN_PREFIX}…{self.hint}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "active"
