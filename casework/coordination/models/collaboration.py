"""Working together on a caseload: chart comments with @mentions, coverage while away, hand-offs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.clients.models import Client, ClientRecord
from casework.core.models import Agency

COMMENT_LIMIT = 2_000


class ChartComment(ClientRecord):
    """A message to colleagues on a client's chart; people @mentioned in it are told on My day."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=COMMENT_LIMIT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"])]

    def __str__(self) -> str:
        return f"Comment {self.pk}"


class Mention(models.Model):
    """One person named in a comment, until they have read it."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    comment = models.ForeignKey(ChartComment, on_delete=models.PROTECT, related_name="mentions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mentions"
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="one_mention_per_person")
        ]

    def __str__(self) -> str:
        return f"Mention of user {self.user_id}"


class Coverage(models.Model):
    """While `absent` is away, `covering` sees their caseload and My day, until `ends_at`."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    absent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="covered_by"
    )
    covering = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="covering_for"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["covering", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="coverage_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(absent=models.F("covering")), name="coverage_is_by_someone_else"
            ),
        ]

    def __str__(self) -> str:
        return f"Coverage {self.pk}"


class Handoff(models.Model):
    """A caseload transfer: clients move to another worker with a summary they acknowledge."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    from_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_given"
    )
    to_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_received"
    )
    effective_on = models.DateField()
    message = models.TextField(max_length=COMMENT_LIMIT, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["to_staff", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"Hand-off {self.pk}"


class HandoffClient(ClientRecord):
    """One client in a hand-off, with the summary as it stood when the hand-off was made."""

    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="clients")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="handoffs")
    summary = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["handoff", "client"], name="one_row_per_handoff_client")
        ]

    def __str__(self) -> str:
        return f"Hand-off {self.handoff_id} client {self.client_id}"
