"""Forms for client documents: add one, remove one, give one to an outside party."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from casework.coordination.models import Document, Organization, Person
from casework.coordination.services_documents import REASON_LIMIT, TITLE_LIMIT
from casework.coordination.uploads import ACCEPTED, UploadRefused, upload_check

ACCEPT = (
    "application/pdf,image/jpeg,image/png,image/webp,image/tiff,image/gif,"
    ".pdf,.jpg,.jpeg,.png,.webp,.tif,.tiff,.gif"
)


class DocumentUploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        # The service says why an empty file is refused, in the words of the other refusals.
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": "Choose the file to add."},
    )
    kind = forms.ChoiceField(
        label="What kind of document",
        choices=[("", "Choose…"), *Document.Kind.choices],
        error_messages={"required": "Choose what kind of document this is."},
    )
    title = forms.CharField(
        label="Title",
        max_length=TITLE_LIMIT,
        help_text="What someone looking for it would call it, e.g. “Medicaid card, front”.",
        error_messages={"required": "Give the document a title."},
    )
    dated_on = forms.DateField(
        label="Date on the document",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Enter the date on the document.",
            "invalid": "Enter a real date.",
        },
    )
    part2 = forms.BooleanField(
        label="42 CFR Part 2 record (from a substance-use treatment program)",
        required=False,
        help_text="It can then be given to others only under a Part 2 consent.",
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, max_size: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"A {ACCEPTED} file, up to {max_size}."

    def clean_file(self) -> UploadedFile:
        # Checked here too, so a wrong file is reported with the other mistakes at once; the
        # service checks again, as it must for every caller.
        uploaded: UploadedFile = self.cleaned_data["file"]
        try:
            upload_check(uploaded)
        except UploadRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return uploaded


class DocumentRemoveForm(forms.Form):
    reason = forms.CharField(
        label="Why is it removed?",
        max_length=REASON_LIMIT,
        help_text="E.g. “Another client's card” or “Uploaded twice”. The document stays in the "
        "audit trail.",
        error_messages={"required": "Say why the document is removed."},
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        organization = obj.organization
        return f"{obj.name} ({organization.name})" if organization is not None else str(obj.name)


class DocumentReleaseForm(forms.Form):
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Organisation",
        empty_label="— No organisation —",
    )
    person = PersonChoiceField(
        queryset=Person.objects.none(),
        required=False,
        label="Person",
        empty_label="— No one in particular —",
    )

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization],
        people: QuerySet[Person],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]
        self.fields["person"].queryset = people  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and data.get("organization") is None and data.get("person") is None:
            raise forms.ValidationError(
                "Choose who receives it: an organisation, a person, or both."
            )
        return data
