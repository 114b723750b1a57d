"""The notes API: service notes about the clients the caller may see.

The queryset starts from casework.notes.selectors.notes_visible (the access layer), so a note
outside the caller's scope is a 404. Writes go through casework.notes.services, which lock,
validate and audit; every read of a note is a chart read and is audited as one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from casework.api import schema
from casework.api.outside import disclose_to_outside
from casework.api.serializers import IDEMPOTENCY_KEY_SHAPE
from casework.api.serializers_notes import (
    AddendumCreateSerializer,
    AddendumSerializer,
    NoteCreateSerializer,
    NoteListQuerySerializer,
    NoteSerializer,
    NoteSignSerializer,
    NoteUpdateSerializer,
    NoteVoidSerializer,
    note_error,
)
from casework.api.views import AgencyViewSet
from casework.clients.services import audit_chart_read
from casework.coordination.models import Category
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.idempotency import submission_claim, submission_complete
from casework.notes import selectors, services
from casework.notes.models import Note

# Idempotency purpose of a note made through the API (notes.services.note_create takes no key).
NOTE_CREATE = "api_note_create"

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A key you choose (up to 64 letters, digits and . _ : -), e.g. a UUID. "
    "Sending the same key again returns the note made the first time (200) instead of a copy.",
)
IF_MATCH_HEADER = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    description='The ETag of the note as you last read it (its version, e.g. "3"); a newer '
    "save from elsewhere answers 412 and nothing is saved.",
)
PRECONDITION_FAILED = OpenApiResponse(
    response=schema.DETAIL_SCHEMA,
    description="The draft was saved since you read it: read it again and send its new ETag.",
)
NOTE_RESPONSES: dict[int, Any] = {
    200: NoteSerializer,
    400: schema.BAD_REQUEST,
    **schema.OBJECT_ERRORS,
}


class NoteAccess(BasePermission):
    """Chart roles read notes (auditors get 403); case managers, supervisors and admins write them."""

    message = "Your role does not include service notes."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not access.may_use_client_registry(request.user):
            self.message = "Your role does not include service notes."
            return False
        if request.method not in SAFE_METHODS and not access.may_write_notes(request.user):
            self.message = "Your role can read notes but not write them."
            return False
        return True


def _expected_version(request: Request, note: Note) -> int:
    """The version the caller last read, from If-Match; without one, the note's own (no check)."""
    sent = request.headers.get("If-Match", "").strip()
    if sent in ("", "*"):
        return note.version
    sent = sent.removeprefix("W/").strip().strip('"')
    # An ETag that is not one of ours can never match: -1 makes the service refuse it (412).
    return int(sent) if sent.isascii() and sent.isdigit() and len(sent) < 10 else -1


@extend_schema_view(
    list=extend_schema(
        summary="List service notes",
        description="Notes about clients you may see, newest service first: signed and void "
        "notes, and your own drafts. Billing staff see notes without their narrative unless "
        "the agency lets them read it; a note written under a 42 CFR Part 2 program shows its "
        "narrative to the program's staff only (`narrative_withheld` says why it is left out). "
        "Auditors get 403. Each client shown is recorded in the audit log.",
        parameters=[NoteListQuerySerializer],
        responses={200: NoteSerializer(many=True), 400: schema.BAD_REQUEST, **schema.READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One service note",
        description="The ETag header is the note's version, for If-Match. Reading a note is "
        "recorded in the audit log.",
        responses={200: NoteSerializer, **schema.OBJECT_ERRORS},
    ),
    create=extend_schema(
        summary="Start a draft note",
        description="A draft about a client you may see, with you as author. What you do not "
        "send starts from your last note for the client (or the agency's template), dated "
        "today. Send an `Idempotency-Key` so that a retried request cannot make a copy.",
        parameters=[IDEMPOTENCY_HEADER],
        request=NoteCreateSerializer,
        responses={
            201: OpenApiResponse(NoteSerializer, description="Started."),
            200: OpenApiResponse(
                NoteSerializer, description="Already started with this Idempotency-Key."
            ),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    partial_update=extend_schema(
        summary="Save your draft",
        description="Changes only the fields sent (`sections` is replaced as a whole). Signed "
        "notes never change: add an addendum instead.",
        request=NoteUpdateSerializer,
        parameters=[IF_MATCH_HEADER],
        responses={**NOTE_RESPONSES, 412: PRECONDITION_FAILED},
    ),
    destroy=extend_schema(
        summary="Discard your draft",
        description="Only an unsigned draft can be discarded; a signed note is voided instead.",
        responses={
            204: OpenApiResponse(description="Discarded."),
            400: schema.BAD_REQUEST,
            **schema.OBJECT_ERRORS,
        },
    ),
)
@extend_schema(tags=["notes"])
class NoteViewSet(AgencyViewSet):
    """Service notes: drafts, signing (which makes the note's one charge), co-signing, addenda."""

    disclosure_categories = (Category.NOTES,)

    serializer_class = NoteSerializer
    permission_classes = [IsAuthenticated, NoteAccess]
    queryset = Note.objects.none()  # for the schema; get_queryset starts from the access layer

    def get_queryset(self) -> QuerySet[Note]:
        # Other people's drafts are unfinished work: the chart does not list them either.
        return (
            selectors.notes_visible(self.user)
            .filter(~Q(status=Note.Status.DRAFT) | Q(author=self.user))
            .select_related("charge")
            .prefetch_related("addenda")
            .order_by("-service_date", "-start_at", "-id")
        )

    def _context(self, notes: list[Note]) -> dict[str, Any]:
        """What the serializer needs to know of the caller: whose narratives they may read."""
        return {
            "agency": self.user.agency,
            "user": self.user,
            "withheld": access.note_narratives_withheld(self.user, notes),
            "part2_programs": access.part2_program_ids(access.agency_id_of(self.user)),
        }

    def _output(self, note: Note, status_code: int = status.HTTP_200_OK) -> Response:
        """The note as it is now (with its charge and addenda), its version as the ETag."""
        note = Note.objects.select_related("charge").prefetch_related("addenda").get(pk=note.pk)
        return Response(
            NoteSerializer(note, context=self._context([note])).data,
            status=status_code,
            headers={"ETag": f'"{note.version}"'},
        )

    def list(self, request: Request) -> Response:
        params = NoteListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        notes = self.get_queryset()
        if "client" in filters:
            notes = notes.filter(client_id=filters["client"])
        if "status" in filters:
            notes = notes.filter(status=filters["status"])
        if "author" in filters:
            author = filters["author"]
            notes = notes.filter(author_id=self.user.pk if author == "me" else int(author))
        if "service_from" in filters:
            notes = notes.filter(service_date__gte=filters["service_from"])
        if "service_to" in filters:
            notes = notes.filter(service_date__lte=filters["service_to"])
        page = self.paginate_queryset(notes) or []
        disclose_to_outside(
            self.request,
            client_ids=list(dict.fromkeys(note.client_id for note in page)),
            categories=self.disclosure_categories,
            section="api notes",
        )
        audit_reads(
            actor=self.user,
            client_ids=list(dict.fromkeys(note.client_id for note in page)),
            section="api notes",
        )
        data = NoteSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str) -> Response:
        note = self.get_object()
        disclose_to_outside(
            self.request,
            client_ids=[note.client.pk],
            categories=self.disclosure_categories,
            section=f"api note {note.pk}",
        )
        audit_chart_read(user=self.user, client=note.client, what=f"api note {note.pk}")
        return Response(
            NoteSerializer(note, context=self._context([note])).data,
            headers={"ETag": f'"{note.version}"'},
        )

    def create(self, request: Request) -> Response:
        sent_key = request.headers.get("Idempotency-Key")
        if sent_key is not None and not IDEMPOTENCY_KEY_SHAPE.match(sent_key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use up to 64 letters, digits and . _ : - (a UUID works)."]}
            )
        serializer = NoteCreateSerializer(data=request.data, context=self._context([]))
        serializer.is_valid(raise_exception=True)
        agency = self.user.agency
        assert agency is not None  # NoteAccess let only staff of an agency through
        with transaction.atomic():
            submission = submission_claim(
                agency=agency, by=self.user, purpose=NOTE_CREATE, key=sent_key or ""
            )
            if submission.earlier_object_id is not None:
                earlier = Note.objects.filter(
                    pk=submission.earlier_object_id, author=self.user
                ).first()
                if earlier is None:
                    raise exceptions.ValidationError(
                        {
                            "Idempotency-Key": [
                                "The draft started with this key was discarded; send a new key "
                                "to start another."
                            ]
                        }
                    )
                return self._output(earlier)
            try:
                note = services.note_create(
                    client=serializer.validated_data["client_id"],
                    author=self.user,
                    start=serializer.start(),
                )
                rest = serializer.draft_rest()
                if rest:
                    note = services.note_save_draft(
                        note=note, by=self.user, data=rest, expected_version=note.version
                    )
            except services.NoteError as error:
                raise note_error(error) from None
            submission_complete(submission, note.pk)
        return self._output(note, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        note = self.get_object()
        serializer = NoteUpdateSerializer(
            data=request.data, partial=True, context={**self._context([]), "note": note}
        )
        serializer.is_valid(raise_exception=True)
        try:
            note = services.note_save_draft(
                note=note,
                by=self.user,
                data=serializer.draft_data(),
                expected_version=_expected_version(request, note),
            )
        except services.NoteConflict:
            return Response(
                {
                    "detail": "Someone saved this draft since you read it (from another tab, "
                    "device or program). Read it again and send its new ETag as If-Match."
                },
                status=status.HTTP_412_PRECONDITION_FAILED,
            )
        except services.NoteError as error:
            raise note_error(error) from None
        return self._output(note)

    def destroy(self, request: Request, pk: str) -> Response:
        note = self.get_object()
        try:
            services.draft_discard(note=note, by=self.user)
        except services.NoteError as error:
            raise note_error(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Sign your note",
        description="Locks the note and makes its one charge (shown under `charge` with its "
        "units, amount and anything that holds it). Signing a note that is already signed "
        "answers the same note and charge again and makes no second charge.",
        request=NoteSignSerializer,
        responses=NOTE_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        note = self.get_object()
        serializer = NoteSignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            signed = services.note_sign(
                note=note,
                by=self.user,
                attest=serializer.validated_data["attest"],
                late_reason=serializer.validated_data.get("late_reason", ""),
            )
        except services.NoteError as error:
            raise note_error(error) from None
        return self._output(signed.note)

    @extend_schema(
        summary="Co-sign a note",
        description="A supervisor of the author's team (or an agency admin) co-signs a signed "
        "note that needs it; a charge held only for the co-signature is released.",
        request=None,
        responses=NOTE_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def cosign(self, request: Request, pk: str) -> Response:
        note = self.get_object()
        try:
            note = services.note_cosign(note=note, by=self.user)
        except services.NoteError as error:
            raise note_error(error) from None
        return self._output(note)

    @extend_schema(
        summary="Void a signed note",
        description="For a note entered in error: it stays on record, marked void with the "
        "reason, and its unbilled charge is voided. A claimed charge needs a void claim first.",
        request=NoteVoidSerializer,
        responses=NOTE_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str) -> Response:
        note = self.get_object()
        serializer = NoteVoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            note = services.note_void(
                note=note, by=self.user, reason=serializer.validated_data["reason"]
            )
        except services.NoteError as error:
            raise note_error(error) from None
        return self._output(note)

    @extend_schema(
        summary="Add an addendum to a signed note",
        description="A correction or addition by the author or a supervisor; the original "
        "stays as it was signed.",
        request=AddendumCreateSerializer,
        responses={
            201: AddendumSerializer,
            400: schema.BAD_REQUEST,
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, pk: str) -> Response:
        note = self.get_object()
        serializer = AddendumCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            addendum = services.addendum_add(
                note=note, by=self.user, text=serializer.validated_data["text"]
            )
        except services.NoteError as error:
            raise note_error(error) from None
        return Response(
            AddendumSerializer(addendum, context=self._context([note])).data,
            status=status.HTTP_201_CREATED,
        )
