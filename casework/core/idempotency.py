"""One record per submission, however many times the form is sent.

A form carries a random key. The service claims the key first, inside its transaction: a twin
request waits on the unique index until the first one commits, then finds the first result.
Keys belong to the person who sent them, so one person's key can never return another's record.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from casework.core.models import Agency, IdempotencyKey, User


def _scoped(by: User, key: str) -> str:
    return f"{by.pk}:{key[:48]}"


@dataclass
class Submission:
    row: IdempotencyKey | None
    earlier_object_id: int | None = None


def submission_claim(*, agency: Agency, by: User, purpose: str, key: str) -> Submission:
    """Call inside the service's transaction. `earlier_object_id` is set when the key was used before."""
    if not key:
        return Submission(row=None)
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(
                agency=agency, purpose=purpose, key=_scoped(by, key), object_id=0
            )
    except IntegrityError:
        earlier = IdempotencyKey.objects.get(agency=agency, purpose=purpose, key=_scoped(by, key))
        return Submission(row=None, earlier_object_id=earlier.object_id)
    return Submission(row=row)


def submission_complete(submission: Submission, object_id: int) -> None:
    if submission.row is not None:
        submission.row.object_id = object_id
        submission.row.save(update_fields=["object_id"])


def submission_result(*, agency: Agency, by: User, purpose: str, key: str) -> int | None:
    """The id made by an earlier submission with this key, if there was one."""
    if not key:
        return None
    return (
        IdempotencyKey.objects.filter(agency=agency, purpose=purpose, key=_scoped(by, key))
        .exclude(object_id=0)
        .values_list("object_id", flat=True)
        .first()
    )
