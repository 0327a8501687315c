"""A small request log of each realm's SCIM endpoint, so the console can tell an admin whether Okta gets through.

The SCIM layer owns no identity model; these rows only describe traffic: the latest request of each realm (one
row, rewritten at most once every few seconds unless the outcome changes, the way APIToken.last_used_at is) and
one row per error response. Neither ever holds a request body, a header or a token: only the method, the path (and
for an error, its query string with secrets redacted), the status, the error the server itself returned, and who
called (service account, last characters of its token).
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from typing import ClassVar

from django.db import DatabaseError, models, transaction
from django.utils import timezone

from realms.models import Realm

from .conf import app_settings


class RealmSCIMStatus(models.Model):
    """The latest SCIM request of a realm (time and result), for the realm's console page."""

    realm = models.OneToOneField(Realm, on_delete=models.CASCADE, primary_key=True, related_name="scim_status")
    last_request_at = models.DateTimeField()
    last_method = models.CharField(max_length=8)
    last_path = models.CharField(max_length=255)
    last_status = models.PositiveSmallIntegerField()
    last_actor_username = models.CharField(max_length=150, blank=True)
    # The latest request that succeeded: on a bad day, when Okta last got through.
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_success_method = models.CharField(max_length=8, blank=True)
    last_success_path = models.CharField(max_length=255, blank=True)
    last_success_actor_username = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = "realm SCIM status"
        verbose_name_plural = "realm SCIM statuses"

    def __str__(self) -> str:
        return f"{self.realm_id}: {self.last_status} at {self.last_request_at}"

    @property
    def succeeded(self) -> bool:
        return self.last_status < 400


class SCIMRequestError(models.Model):
    """A SCIM request answered with a 4xx or 5xx: what was called and what the server answered (never the body)."""

    realm = models.ForeignKey(Realm, on_delete=models.CASCADE, related_name="scim_request_errors", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    # The query string, decoded, with secrets redacted (scim.request_log.redacted_query): which filter was refused.
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    scim_type = models.CharField(max_length=32, blank=True)
    detail = models.TextField(blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    token_hint = models.CharField(max_length=8, blank=True)
    # Off: the realm's SCIM switch was off when the request came (its answer a 404): the admin's most common mistake.
    scim_enabled = models.BooleanField("SCIM enabled", default=True)

    class Meta:
        verbose_name = "SCIM request error"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["realm", "-created_at"], name="scimrequesterror_realm_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.target} → {self.status}"

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(frozen=True)
class SCIMRequest:
    """What the request log keeps of one SCIM request."""

    realm_id: object
    method: str
    path: str
    status: int
    query: str = ""  # redacted, recorded with errors only
    actor_username: str = ""
    token_hint: str = ""
    scim_type: str = ""
    detail: str = ""

    SUCCESS: ClassVar[str] = "ok"  # the outcome of every success

    @property
    def outcome(self) -> str:
        # Successes are one outcome; each error status is its own, so a new kind of failure shows at once.
        return self.SUCCESS if self.status < 400 else str(self.status)


# realm id -> (outcome, time of the last status write) in this process: most requests cost no query at all.
_written: dict[object, tuple[str, datetime.datetime]] = {}
_lock = threading.Lock()


def status_due(realm_id: object, outcome: str, now: datetime.datetime) -> bool:
    """Whether the realm's status row is to be rewritten for a request of this outcome: the outcome changed, or
    REQUEST_STATUS_RESOLUTION seconds passed since this process last wrote it."""
    with _lock:
        previous = _written.get(realm_id)
    interval = datetime.timedelta(seconds=app_settings.REQUEST_STATUS_RESOLUTION)
    return previous is None or previous[0] != outcome or now - previous[1] >= interval


def record_request(req: SCIMRequest, now: datetime.datetime | None = None) -> None:
    """Update the realm's status row when due, and keep a row per error response. Unknown realms are ignored."""
    now = now or timezone.now()
    if status_due(req.realm_id, req.outcome, now) and _write_status(req, now):
        with _lock:
            _written[req.realm_id] = (req.outcome, now)
    if req.status < 400:
        return
    # One query tells whether the realm exists and whether its SCIM switch is on: a request to a realm with SCIM
    # off is recorded as such (its body, read by nobody, never is).
    scim_enabled = Realm.objects.filter(pk=req.realm_id).values_list("scim_enabled", flat=True).first()
    if scim_enabled is not None:
        SCIMRequestError.objects.create(
            scim_enabled=scim_enabled,
            realm_id=req.realm_id,
            created_at=now,
            method=req.method[:8],
            path=req.path[:255],
            query=req.query[:2000],
            status=req.status,
            scim_type=req.scim_type[:32],
            detail=req.detail[:2000],
            actor_username=req.actor_username[:150],
            token_hint=req.token_hint[:8],
        )


def _write_status(req: SCIMRequest, now: datetime.datetime) -> bool:
    values = {
        "last_request_at": now,
        "last_method": req.method[:8],
        "last_path": req.path[:255],
        "last_status": req.status,
        "last_actor_username": req.actor_username[:150],
    }
    if req.status < 400:
        values.update(
            last_success_at=now,
            last_success_method=values["last_method"],
            last_success_path=values["last_path"],
            last_success_actor_username=values["last_actor_username"],
        )
    with transaction.atomic():
        if not RealmSCIMStatus.objects.filter(realm_id=req.realm_id).update(**values):
            if not Realm.objects.filter(pk=req.realm_id).exists():
                return False
            try:
                with transaction.atomic():
                    RealmSCIMStatus.objects.create(realm_id=req.realm_id, **values)
            except DatabaseError:  # another process created it first
                RealmSCIMStatus.objects.filter(realm_id=req.realm_id).update(**values)
        # Errors are kept for a while only; pruning rides on the throttled status write.
        retention = datetime.timedelta(days=app_settings.REQUEST_ERROR_RETENTION_DAYS)
        SCIMRequestError.objects.filter(realm_id=req.realm_id, created_at__lt=now - retention).delete()
    return True
