"""How often a client should be seen, and when they last were: one answer for My day, the
team board and the early-warning rules.

A contact is a signed face-to-face, phone or video note (a collateral call or a no-show is
not). The standard is the client's own, else the strictest of their current programs', else
the agency's.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Max, Min, Q

from casework.clients.models import Episode
from casework.notes.models import ContactType, Note

CONTACTS = (ContactType.FACE_TO_FACE, ContactType.PHONE, ContactType.VIDEO)


def program_standards(client_ids: Iterable[int], today: datetime.date) -> dict[int, int]:
    """The strictest contact standard of each client's current programs, where one has it."""
    return dict(
        Episode.objects.filter(
            Q(discharged_on__isnull=True) | Q(discharged_on__gt=today),
            client_id__in=list(client_ids),
            admitted_on__lte=today,
            program__contact_every_days__isnull=False,
        )
        .values("client_id")
        .annotate(days=Min("program__contact_every_days"))
        .values_list("client_id", "days")
    )


def last_contacts(client_ids: Iterable[int]) -> dict[int, datetime.date]:
    """The service date of each client's last contact (clients never seen are left out)."""
    return dict(
        Note.objects.filter(
            client_id__in=list(client_ids), status=Note.Status.SIGNED, contact_type__in=CONTACTS
        )
        .values("client_id")
        .annotate(last=Max("service_date"))
        .values_list("client_id", "last")
    )
