"""Service-note pages: write (with autosave), sign, co-sign, addenda, void, queues, quick phrases."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from casework.billing.models import ServiceCode
from casework.billing.services.charges import charge_quote
from casework.clients.forms import emergency_access_form
from casework.clients.models import Client
from casework.clients.selectors import client_flags
from casework.clients.services import audit_chart_read
from casework.core import access
from casework.core.models import Role, User
from casework.notes import selectors, services
from casework.notes.forms import (
    AddendumForm,
    GroupNoteForm,
    NoteForm,
    QuickPhraseForm,
    SignForm,
    VoidForm,
)
from casework.notes.models import GroupSession, NotableEvent, Note
from casework.notes.templates import note_template
from casework.plans.selectors import objectives_addressed, objectives_for_note
from casework.schedule.models import Appointment, AppointmentClient


def _writer(request: HttpRequest) -> User:
    user = request.user
    if not access.may_write_notes(user):
        raise PermissionDenied("Your role does not write service notes.")
    return user  # type: ignore[return-value]


def _reader(request: HttpRequest) -> User:
    user = request.user
    if not access.may_use_client_registry(user):
        raise PermissionDenied("Your role does not include client records.")
    return user  # type: ignore[return-value]


def _codes(user: User) -> Any:
    return ServiceCode.objects.filter(agency_id=access.agency_id_of(user), is_active=True)


def _own_draft(user: User, note_id: int) -> Note:
    note = selectors.note_or_404(user, note_id)
    if note.author_id != user.pk:
        raise PermissionDenied("Only the author can change a draft.")
    return note


def _appointment_or_404(user: User, client: Client, appointment_id: str) -> Appointment:
    """An appointment of the user's agency that this client was at; 404 for anything else."""
    if not appointment_id.isascii() or not appointment_id.isdigit():
        raise Http404("No such appointment.")
    at_it = AppointmentClient.objects.filter(client=client).values("appointment_id")
    appointment = Appointment.objects.filter(
        pk=int(appointment_id), agency_id=access.agency_id_of(user), pk__in=at_it
    ).first()
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def _when(appointment: Appointment, client: Client) -> str:
    """The appointment's block in the agency's time zone, e.g. "Tue 12/01/2026, 10:00 to 11:00"."""
    assert client.agency is not None
    start = appointment.start_at.astimezone(client.agency.tzinfo)
    end = appointment.end_at.astimezone(client.agency.tzinfo)
    return f"{start:%a %m/%d/%Y}, {start:%H:%M} to {end:%H:%M}"


@login_required
def note_new(request: HttpRequest, client_id: int) -> HttpResponse:
    """Start a draft from the client's last note (one click from the chart), or from an
    appointment (`appointment` in the form or the query string). A GET, which a link from the
    schedule makes, only shows the button that starts it: a GET never creates anything."""
    appointment_id = request.POST.get("appointment") or request.GET.get("appointment", "")
    if request.method != "POST" and not appointment_id:
        return HttpResponseNotAllowed(["POST"])
    user = _writer(request)
    client = access.client_or_404(user, client_id)
    appointment = _appointment_or_404(user, client, appointment_id) if appointment_id else None
    if request.method != "POST":
        assert appointment is not None
        audit_chart_read(user=user, client=client, what="appointment")
        return render(
            request,
            "notes/from_appointment.html",
            {
                "client": client,
                "appointment": appointment,
                "submission_key": uuid.uuid4().hex,
                "when": _when(appointment, client),
            },
        )
    if appointment is not None:
        start = services.note_start_from_appointment(
            appointment=appointment, client=client, author=user
        )
    else:
        start = services.note_start_defaults(client=client, author=user)
    try:
        note = services.note_create(
            client=client,
            author=user,
            start=start,
            submission_key=request.POST.get("submission_key", ""),
        )
    except services.NoteError as error:
        messages.error(request, str(error))
        return redirect("client_chart", client.pk)
    return redirect("note_edit", note.pk)


def _note_form(request: HttpRequest, user: User, note: Note, data: Any = None) -> NoteForm:
    """The form as the page shows it: the note's own format, plus any text kept from another."""
    return NoteForm(
        data if data is not None else (request.POST or None),
        initial=NoteForm.initial_for(note),
        agency=note.agency,
        codes=_codes(user),
        template=note_template(note.template),
        kept_sections=tuple(k for k, text in (note.sections or {}).items() if str(text).strip()),
        objectives=objectives_for_note(user=user, client_id=note.client_id),
    )


def _apply_form_errors(form: NoteForm, error: services.NoteError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))


def _render_edit(
    request: HttpRequest, note: Note, form: NoteForm, sign_form: SignForm, status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "notes/edit.html",
        {
            "note": note,
            "client": note.client,
            "flags": client_flags(client=note.client),
            "form": form,
            "sign_form": sign_form,
            "quote": charge_quote(note=note),
            "late_days": services.late_days(note),
            "phrases": selectors.quick_phrases(user=user),
            "time_zone": note.agency.time_zone,
        },
        status=status,
    )


@login_required
def note_edit(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _writer(request)
    note = _own_draft(user, note_id)
    if note.status != Note.Status.DRAFT:
        return redirect("note_detail", note.pk)
    form = _note_form(request, user, note)
    sign_form = SignForm(request.POST or None)
    if request.method == "GET":
        audit_chart_read(user=user, client=note.client, what="note")
        return _render_edit(request, note, form, sign_form)
    if not form.is_valid():
        return _render_edit(request, note, form, sign_form, status=400)
    try:
        note = services.note_save_draft(
            note=note, by=user, data=form.note_data(), expected_version=form.cleaned_data["version"]
        )
    except services.NoteError as error:
        note.refresh_from_db()
        form = _note_form_after_save(request, user, note)  # typed text, current version
        _apply_form_errors(form, error)
        return _render_edit(request, note, form, sign_form, status=409)
    if request.POST.get("action") != "sign":
        messages.success(request, "Draft saved.")
        return redirect("note_edit", note.pk)
    sign_form.is_valid()
    try:
        signed = services.note_sign(
            note=note,
            by=user,
            attest=sign_form.cleaned_data.get("attest", False),
            late_reason=sign_form.cleaned_data.get("late_reason", ""),
        )
    except services.NoteError as error:
        refreshed = _note_form_after_save(request, user, note)
        if error.field in sign_form.fields:
            sign_form.add_error(error.field, str(error))
        else:
            _apply_form_errors(refreshed, error)
        return _render_edit(request, note, refreshed, sign_form, status=400)
    messages.success(request, _signed_message(signed))
    return redirect("note_detail", note.pk)


def _note_form_after_save(request: HttpRequest, user: User, note: Note) -> NoteForm:
    """The same typed values with the new version, so the next submit is not refused as stale."""
    data = request.POST.copy()
    data["version"] = str(note.version)
    form = _note_form(request, user, note, data)
    form.is_valid()
    return form


def _signed_message(signed: services.Signed) -> str:
    charge = signed.charge
    if charge is None:
        return "Signed."
    if charge.status == "held":
        reasons = "; ".join(h["message"] for h in charge.hold_reasons)
        return f"Signed. The charge is held for billing: {reasons}"
    return f"Signed. Charge: {charge.service_code.label}, {charge.units} units = ${charge.amount}."


@login_required
@require_POST
def note_autosave(request: HttpRequest, note_id: int) -> JsonResponse:
    """Saves the draft while the person types; answers with the new version (or why not)."""
    user = _writer(request)
    note = _own_draft(user, note_id)
    form = _note_form(request, user, note)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return JsonResponse({"saved": False, "errors": errors}, status=400)
    try:
        note = services.note_save_draft(
            note=note, by=user, data=form.note_data(), expected_version=form.cleaned_data["version"]
        )
    except services.NoteConflict as error:
        return JsonResponse({"saved": False, "conflict": True, "message": str(error)}, status=409)
    except services.NoteError as error:
        return JsonResponse({"saved": False, "message": str(error)}, status=400)
    return JsonResponse(
        {"saved": True, "version": note.version, "saved_at": note.updated_at.isoformat()}
    )


@login_required
def note_quote(request: HttpRequest, note_id: int) -> HttpResponse:
    """The charge preview fragment, refreshed after each autosave."""
    user = _writer(request)
    note = _own_draft(user, note_id)
    return render(request, "notes/_quote.html", {"quote": charge_quote(note=note), "note": note})


def _event_labels(note: Note) -> list[str]:
    labels = dict(NotableEvent.choices)
    return [str(labels.get(event, event)) for event in note.events or []]


def _narrative(note: Note) -> list[tuple[str, str]]:
    """The template's sections with the note's text, in the template's order."""
    sections = dict(note.sections or {})
    shown = [(s.label, sections.pop(s.key, "")) for s in note_template(note.template).sections]
    kept = [(key.replace("_", " ").capitalize(), text) for key, text in sections.items() if text]
    return shown + kept


@login_required
def note_detail(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _reader(request)
    note = selectors.note_or_404(user, note_id)
    if note.status == Note.Status.DRAFT and note.author_id == user.pk:
        return redirect("note_edit", note.pk)
    if note.status == Note.Status.DRAFT:
        raise PermissionDenied("This note is still a draft of its author.")
    audit_chart_read(user=user, client=note.client, what="note")
    withheld = access.note_narrative_withheld(user, note)
    return render(
        request,
        "notes/detail.html",
        {
            "note": note,
            "client": note.client,
            "flags": client_flags(client=note.client),
            "narrative": _narrative(note),
            "event_labels": _event_labels(note),
            "objectives": objectives_addressed(
                client_id=note.client_id, goals_addressed=note.goals_addressed
            ),
            "charge": getattr(note, "charge", None)
            if access.may_bill(user) or note.author_id == user.pk
            else None,
            "may_read": not withheld,
            "withheld": withheld,
            "emergency_form": emergency_access_form()
            if access.may_open_part2_in_emergency(user, note.client, withheld)
            else None,
            "may_cosign": note.awaiting_cosign and services.may_cosign(user, note),
            "may_amend": note.status == Note.Status.SIGNED
            and (note.author_id == user.pk or services.may_cosign(user, note)),
            "addendum_form": AddendumForm(),
            "void_form": VoidForm(),
        },
    )


@login_required
def note_print(request: HttpRequest, note_id: int) -> HttpResponse:
    """A printable page of a signed note (the browser prints or saves it as PDF)."""
    user = _reader(request)
    note = selectors.note_or_404(user, note_id)
    if note.status == Note.Status.DRAFT:
        raise PermissionDenied("Only signed notes can be printed.")
    if withheld := access.note_narrative_withheld(user, note):
        raise PermissionDenied(withheld)
    audit_chart_read(user=user, client=note.client, what="note_print")
    return render(
        request,
        "notes/print.html",
        {"note": note, "narrative": _narrative(note), "event_labels": _event_labels(note)},
    )


@login_required
@require_POST
def note_cosign(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _reader(request)
    note = selectors.note_or_404(user, note_id)
    try:
        services.note_cosign(note=note, by=user)
    except services.NoteError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Co-signed the note for {note.client.display_name}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("note_detail", args=[note.pk])
    return redirect(back)


@login_required
@require_POST
def note_addendum(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _writer(request)
    note = selectors.note_or_404(user, note_id)
    form = AddendumForm(request.POST)
    try:
        if not form.is_valid():
            raise services.NoteError(
                " ".join(str(e) for errs in form.errors.values() for e in errs)
            )
        services.addendum_add(note=note, by=user, text=form.cleaned_data["text"])
    except services.NoteError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Addendum added.")
    return redirect("note_detail", note.pk)


@login_required
@require_POST
def note_void(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _writer(request)
    note = selectors.note_or_404(user, note_id)
    try:
        services.note_void(note=note, by=user, reason=request.POST.get("reason", ""))
    except services.NoteError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The note is void. It stays in the record, marked void.")
    return redirect("note_detail", note.pk)


@login_required
@require_POST
def note_discard(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _writer(request)
    note = _own_draft(user, note_id)
    client_id = note.client_id
    try:
        services.draft_discard(note=note, by=user)
    except services.NoteError as error:
        messages.error(request, str(error))
        return redirect("note_detail", note.pk)
    messages.success(request, "Draft discarded.")
    return redirect("client_chart", client_id)


@login_required
def unsigned_notes(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    assert user.agency is not None
    today = user.agency.today()
    notes = list(selectors.my_unsigned_notes(user=user))
    for note in notes:
        note.age = (today - note.service_date).days  # type: ignore[attr-defined]
    return render(
        request,
        "notes/unsigned.html",
        {"notes": notes, "late_after": user.agency.late_note_days},
    )


@login_required
def cosign_queue(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    if not user.has_role(Role.SUPERVISOR, Role.AGENCY_ADMIN):
        raise PermissionDenied("Co-signing is for supervisors.")
    return render(
        request, "notes/cosign_queue.html", {"notes": selectors.notes_awaiting_cosign(user=user)}
    )


@login_required
def quick_phrase_list(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    form = QuickPhraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.quick_phrase_save(
                owner=user, label=form.cleaned_data["label"], text=form.cleaned_data["text"]
            )
        except services.NoteError as error:
            form.add_error("label", str(error))
        else:
            messages.success(request, "Phrase saved.")
            return redirect("quick_phrase_list")
    return render(
        request,
        "notes/phrases.html",
        {"form": form, "phrases": selectors.quick_phrases(user=user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def quick_phrase_delete(request: HttpRequest, phrase_id: int) -> HttpResponse:
    user = _writer(request)
    phrase = get_object_or_404(selectors.quick_phrases(user=user), pk=phrase_id)
    services.quick_phrase_delete(phrase=phrase, by=user)
    messages.success(request, "Phrase removed.")
    return redirect("quick_phrase_list")


def _group_start(form: GroupNoteForm, user: User) -> services.NoteStart:
    assert user.agency is not None
    tz = user.agency.tzinfo
    data = form.cleaned_data
    day = data["service_date"]
    start_at = datetime.datetime.combine(day, data["start_time"], tzinfo=tz).astimezone(
        datetime.UTC
    )
    end_at = datetime.datetime.combine(day, data["end_time"], tzinfo=tz).astimezone(datetime.UTC)
    if end_at <= start_at:
        end_at += datetime.timedelta(days=1)
    return services.NoteStart(
        service_date=day,
        start_at=start_at,
        end_at=end_at,
        place_of_service=data["place_of_service"],
        service_code_id=data["service_code"].pk if data["service_code"] else None,
        template=user.agency.note_template,
    )


@login_required
def group_note_new(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    form = GroupNoteForm(
        request.POST or None,
        clients=access.clients_in_scope(user).order_by("legal_last_name"),
        codes=_codes(user),
        initial={"submission_key": uuid.uuid4().hex},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.group_session_create(
                author=user,
                clients=list(form.cleaned_data["clients"]),
                topic=form.cleaned_data["topic"],
                start=_group_start(form, user),
                shared_text=form.cleaned_data["shared_text"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except services.NoteError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, "Group notes started: add each client's own part and sign.")
            return redirect("group_session", session.pk)
    return render(
        request, "notes/group_new.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def group_session(request: HttpRequest, session_id: int) -> HttpResponse:
    user = _writer(request)
    session = get_object_or_404(GroupSession, pk=session_id, author=user)
    notes = selectors.notes_visible(user).filter(group=session).select_related("client")
    return render(request, "notes/group_session.html", {"session": session, "notes": notes})
