"""Reads of service notes, always starting from the clients the user may see."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from casework.core import access
from casework.core.models import Role, User
from casework.notes.models import Addendum, Note, QuickPhrase


def notes_visible(user: User, client_id: int | None = None) -> QuerySet[Note]:
    """Notes about clients the user may see, or about the one client given (narratives are a
    separate question: may_read_narratives)."""
    if client_id is not None:
        return access.of_visible_client(user, Note.objects.all(), client_id)
    return Note.objects.filter(
        agency_id=access.agency_id_of(user), client__in=access.visible_clients(user)
    )


def note_or_404(user: User, note_id: int | str) -> Note:
    from django.http import Http404

    try:
        return (
            notes_visible(user)
            .select_related(
                "client", "author", "service_code", "cosigned_by", "voided_by", "agency", "program"
            )
            .prefetch_related(Prefetch("addenda", Addendum.objects.select_related("author")))
            .get(pk=int(note_id))
        )
    except (ValueError, TypeError, Note.DoesNotExist):
        raise Http404("No such note.") from None


def client_notes(*, user: User, client_id: int, limit: int = 50) -> list[Note]:
    """The client's notes, newest first, with what the chart's note list shows."""
    return list(
        notes_visible(user, client_id)
        .filter(~Q(status=Note.Status.DRAFT) | Q(author=user))
        .select_related("author", "service_code")
        .order_by("-service_date", "-start_at", "-id")[:limit]
    )


def my_unsigned_notes(*, user: User) -> QuerySet[Note]:
    """The user's drafts, oldest service first: the ones most at risk of being late."""
    return (
        Note.objects.filter(author=user, status=Note.Status.DRAFT)
        .select_related("client", "service_code")
        .order_by("service_date", "start_at", "id")
    )


def notes_awaiting_cosign(*, user: User) -> QuerySet[Note]:
    """Signed notes of the people this user supervises that still need a co-signature."""
    notes = Note.objects.filter(
        agency_id=access.agency_id_of(user),
        status=Note.Status.SIGNED,
        cosign_required=True,
        cosigned_at__isnull=True,
    ).exclude(author=user)
    if not user.has_role(Role.AGENCY_ADMIN):
        notes = notes.filter(author_id__in=access.supervised_staff_ids(user))
    part2 = access.part2_program_ids(access.agency_id_of(user))
    if part2:
        # A Part 2 program's note is co-signed within the program (notes.services.may_cosign).
        of_part2 = notes.filter(program_id__in=sorted(part2)).only(
            "pk", "client_id", "author_id", "program_id"
        )
        if withheld := access.note_narratives_withheld(user, of_part2):
            notes = notes.exclude(pk__in=sorted(withheld))
    return notes.select_related("client", "author", "service_code").order_by("signed_at", "id")


def quick_phrases(*, user: User) -> QuerySet[QuickPhrase]:
    return QuickPhrase.objects.filter(owner=user).order_by("label")
