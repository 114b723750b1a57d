"""Forms for releases of information; the rules themselves live in `services_consents`."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.clients.models import Client
from casework.coordination.models import Category, Consent, Document, Organization, Person, Purpose
from casework.coordination.services_consents import NewRelease, release_problems
from casework.web.forms import set_queryset
from casework.web.widgets import DateInput

SIGNATURE_FIELDS = ("signed_how", "signed_by_name", "signer_confirmed", "signed_copy", "signed_on")


class PersonChoiceField(forms.ModelChoiceField):
    """A person of the directory, named with their role and organisation so namesakes differ."""

    def label_from_instance(self, obj: Any) -> str:
        person: Person = obj
        where = f", {person.organization.name}" if person.organization is not None else ""
        return f"{person.name} ({person.get_role_display()}{where})"


class DocumentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        document: Document = obj
        return f"{document.title} ({document.dated_on:%m/%d/%Y})"


class ReleaseForm(forms.Form):
    """A release the client signed, or (`for_print`) the one about to be printed for signing."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Organisation",
        empty_label="— none —",
        help_text="A release to an organisation covers its people in the directory.",
    )
    person = PersonChoiceField(
        queryset=Person.objects.none(),
        required=False,
        label="Person",
        empty_label="— none —",
        help_text="A release to a person covers that person only.",
    )
    purpose = forms.ChoiceField(choices=[("", "— choose —"), *Purpose.choices])
    purpose_detail = forms.CharField(
        label="Purpose in detail",
        max_length=300,
        required=False,
        help_text="Needed when the purpose is “Other”.",
    )
    categories = forms.MultipleChoiceField(
        label="What may be shared",
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="SUD counseling notes need a consent of their own.",
    )
    starts_on = forms.DateField(label="Starts on", widget=DateInput())
    expires_on = forms.DateField(
        label="Ends on",
        widget=DateInput(),
        required=False,
        help_text="A date, an event, or both (it ends at whichever comes first).",
    )
    expiry_event = forms.CharField(
        label="Or ends when",
        max_length=200,
        required=False,
        help_text="An event, e.g. “when I am discharged from the program”.",
    )
    all_future = forms.BooleanField(
        label="No end: all future treatment, payment and operations (purpose TPO only)",
        required=False,
    )
    signed_how = forms.ChoiceField(
        label="How it was signed",
        choices=Consent.SignedHow.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    signed_by_name = forms.CharField(
        label="Name of the person who signed",
        max_length=200,
        required=False,
        help_text="The client, or their legal representative.",
    )
    signer_confirmed = forms.BooleanField(
        label="The client (or their representative) signed it on this screen",
        required=False,
    )
    signed_copy = DocumentChoiceField(
        queryset=Document.objects.none(),
        label="Scanned signed form",
        required=False,
        empty_label="— choose —",
        help_text="Needed when signed on paper: upload it to the client's documents first.",
    )
    signed_on = forms.DateField(label="Signed on", widget=DateInput(), required=False)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(
        self,
        *args: Any,
        client: Client,
        today: datetime.date,
        organizations: QuerySet[Organization],
        people: QuerySet[Person],
        documents: QuerySet[Document],
        for_print: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "initial",
            {
                "starts_on": today,
                "signed_on": today,
                "signed_how": Consent.SignedHow.ON_SCREEN,
                "signed_by_name": client.legal_name,
                "submission_key": uuid.uuid4().hex,
            },
        )
        super().__init__(*args, **kwargs)
        self.client, self.today, self.for_print = client, today, for_print
        set_queryset(self, "organization", organizations)
        set_queryset(self, "person", people)
        set_queryset(self, "signed_copy", documents)
        # Required to record, not to print: the page does not call them optional.
        for name in ("signed_how", "signed_by_name", "signed_on"):
            self.fields[name].needed_to_sign = True  # type: ignore[attr-defined]

    def release(self) -> NewRelease:
        data = self.cleaned_data
        return NewRelease(
            organization=data.get("organization"),
            person=data.get("person"),
            purpose=data.get("purpose", ""),
            purpose_detail=data.get("purpose_detail", ""),
            categories=tuple(data.get("categories") or ()),
            starts_on=data.get("starts_on") or self.today,
            expires_on=data.get("expires_on"),
            expiry_event=data.get("expiry_event", ""),
            all_future=bool(data.get("all_future")),
            signed_how=data.get("signed_how", ""),
            signed_by_name=data.get("signed_by_name", ""),
            signer_confirmed=bool(data.get("signer_confirmed")),
            signed_copy=data.get("signed_copy"),
            signed_on=data.get("signed_on"),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # A field that already failed (a date that is not a date) keeps its own message.
        failed = set(self.errors)
        if "starts_on" in failed:
            failed.add("expires_on")
        for problem in release_problems(
            self.release(), client=self.client, today=self.today, for_print=self.for_print
        ):
            field = problem.field if problem.field in self.fields else None
            if field not in failed:
                self.add_error(field, problem.message)
                if field is not None:
                    failed.add(field)
        return cleaned


class RevokeForm(forms.Form):
    note = forms.CharField(
        label="How the client revoked it",
        max_length=300,
        help_text="E.g. “in writing, letter dated 05/02”, or “told me by phone”.",
    )


class EndedForm(forms.Form):
    ended_on = forms.DateField(label="The event happened on", widget=DateInput())
