"""Loading the directory from a spreadsheet (CSV): read and check every line, show what would
change, then import all of it or nothing.

Decisions:
- Lines are matched to existing entries by name and address (ignoring case and repeated
  spaces): a matched entry is updated with the file's columns, never duplicated.
- A column left out of the file keeps what the directory has; a blank cell in a column that is
  there clears the field (the file is the source), except `accepting_referrals`, blank = yes.
- Service types may be written as codes (`food`) or as the labels people see (`Food`),
  separated by `;`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.coordination.models import Organization, OrganizationService, ServiceType
from casework.coordination.services_directory import (
    ORGANIZATION_LIMITS,
    DirectoryError,
    one_line,
    organization_field_errors,
    require_curator,
    website_normalised,
)
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import User

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5_000
MAX_ERRORS_SHOWN = 200
COLUMNS = (
    "name",
    "service_types",
    "address",
    "phone",
    "fax",
    "email",
    "website",
    "hours",
    "eligibility",
    "languages",
    "accepting_referrals",
)
TEXT_COLUMNS = tuple(c for c in COLUMNS if c in ORGANIZATION_LIMITS)
YES = frozenset({"yes", "y", "true", "1", "x"})
NO = frozenset({"no", "n", "false", "0"})

SAMPLE_ROWS = (
    COLUMNS,
    (
        "Harbor Food Bank",
        "food",
        "1200 Harbor Way, Tacoma, WA 98402",
        "253-555-0141",
        "",
        "intake@harborfood.example",
        "https://harborfood.example",
        "Mon-Fri 9:00-16:00",
        "Anyone in Pierce County; bring ID if you have one",
        "English, Spanish",
        "yes",
    ),
    (
        "Riverside Behavioral Health",
        "Psychiatry; Substance-use treatment",
        "455 River Rd, Tacoma, WA 98404",
        "253-555-0177",
        "253-555-0178",
        "referrals@riverside.example",
        "www.riverside.example",
        "Mon-Sat 8:00-18:00",
        "Adults 18+ with Medicaid",
        "English, Vietnamese",
        "no",
    ),
)


@dataclass(frozen=True)
class LineError:
    """One problem in the file: the line (as a spreadsheet numbers it), the column, and why."""

    line: int
    column: str
    message: str


@dataclass(frozen=True)
class ImportRow:
    line: int
    values: dict[str, Any]
    existing_id: int | None

    @property
    def name(self) -> str:
        return str(self.values["name"])


@dataclass
class ImportPreview:
    """What the file would do, or why it cannot be imported."""

    columns: tuple[str, ...] = ()
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    file_error: str = ""
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.errors and bool(self.rows)

    @property
    def new_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.existing_id is None]

    @property
    def updated_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.existing_id is not None]

    @property
    def errors_shown(self) -> list[LineError]:
        return self.errors[:MAX_ERRORS_SHOWN]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def sample_csv() -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(SAMPLE_ROWS)
    return buffer.getvalue()


def _service_type_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, label in ServiceType.choices:
        lookup[code.casefold()] = code
        lookup[str(label).casefold()] = code
    return lookup


def _service_types(text: str) -> tuple[tuple[str, ...], list[str]]:
    """(codes, the parts not understood)."""
    lookup = _service_type_lookup()
    codes: list[str] = []
    unknown: list[str] = []
    for part in text.split(";"):
        part = one_line(part)
        if not part:
            continue
        code = lookup.get(part.casefold())
        if code is None:
            unknown.append(part)
        elif code not in codes:
            codes.append(code)
    return tuple(codes), unknown


def _header(cells: list[str]) -> tuple[tuple[str, ...], str]:
    names = tuple(one_line(cell).casefold().replace(" ", "_") for cell in cells)
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        return names, (
            f"Line 1 names a column this import does not know: “{unknown[0][:40]}”. "
            f"The columns are: {', '.join(COLUMNS)}."
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return names, f"Line 1 names the column “{repeated[0]}” more than once."
    if "name" not in names:
        return names, "Line 1 must name the columns, and one of them must be “name”."
    return names, ""


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(the line the record starts on, its cells); blank lines skipped."""
    start = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def _row_values(
    line: int, columns: tuple[str, ...], cells: list[str]
) -> tuple[dict[str, Any], list[LineError]]:
    errors: list[LineError] = []
    if len(cells) > len(columns):
        errors.append(
            LineError(
                line,
                "—",
                f"This line has {len(cells)} cells but the header names {len(columns)} "
                "columns; a comma inside a value needs the value in double quotes.",
            )
        )
    raw = dict(zip(columns, cells, strict=False))
    values: dict[str, Any] = {}
    for column in columns:
        text = raw.get(column, "").strip()
        if column == "service_types":
            codes, unknown = _service_types(text)
            values[column] = codes
            if unknown:
                errors.append(
                    LineError(
                        line,
                        column,
                        f"“{unknown[0][:40]}” is not a service type. Use codes or names from "
                        "the sample file, separated by “;”.",
                    )
                )
        elif column == "accepting_referrals":
            if text.casefold() in NO:
                values[column] = False
            elif not text or text.casefold() in YES:
                values[column] = True
            else:
                values[column] = True
                errors.append(LineError(line, column, f"Write yes or no, not “{text[:20]}”."))
        elif column in ("name", "address"):
            values[column] = one_line(text)
        elif column == "website":
            values[column] = website_normalised(text)
        else:
            values[column] = text
    for column, message in organization_field_errors(values).items():
        errors.append(LineError(line, column, message))
    return values, errors


def directory_csv_read(*, data: bytes, agency_id: int) -> ImportPreview:
    """Read and check the whole file against the agency's directory; nothing is written."""
    preview = ImportPreview(sha256=hashlib.sha256(data).hexdigest())
    if len(data) > MAX_BYTES:
        preview.file_error = (
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is 1 MB. "
            "Split it into smaller files."
        )
        return preview
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        preview.file_error = (
            f"Line {line} is not UTF-8 text. In a spreadsheet, save the file as "
            "“CSV UTF-8 (comma delimited)”."
        )
        return preview
    if "\x00" in text:
        preview.file_error = "This is not a CSV text file."
        return preview
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            preview.file_error = "The file is empty."
            return preview
        columns, problem = _header(header)
        preview.columns = columns
        if problem:
            preview.file_error = problem
            return preview
        records: list[tuple[int, list[str]]] = []
        for line, cells in _records(reader):
            if len(records) == MAX_ROWS:
                preview.file_error = (
                    f"The file has more than {MAX_ROWS:,} organisations; split it into "
                    "smaller files."
                )
                return preview
            records.append((line, cells))
    except csv.Error as error:
        preview.file_error = f"Line {reader.line_num} cannot be read as CSV ({error})."
        return preview
    if not records:
        preview.file_error = "The file has a header line but no organisations."
        return preview
    existing = _existing_by_key(agency_id)
    seen: dict[tuple[str, str], int] = {}
    for line, cells in records:
        values, errors = _row_values(line, columns, cells)
        key = (values["name"].casefold(), str(values.get("address", "")).casefold())
        if values["name"] and key in seen:
            errors.append(
                LineError(line, "name", f"Line {seen[key]} has the same name and address.")
            )
        seen.setdefault(key, line)
        preview.errors.extend(errors)
        if not errors:
            preview.rows.append(ImportRow(line, values, existing.get(key)))
    return preview


def _existing_by_key(agency_id: int) -> dict[tuple[str, str], int]:
    """The agency's organisations by (name, address) as the import matches them."""
    keys: dict[tuple[str, str], int] = {}
    for pk, name, address in (
        Organization.objects.filter(agency_id=agency_id)
        .order_by("id")
        .values_list("pk", "name", "address")
    ):
        keys.setdefault((one_line(name).casefold(), one_line(address).casefold()), pk)
    return keys


def directory_import_apply(*, data: bytes, by: User) -> ImportResult:
    """Import every line of the file, or nothing: one transaction, one audit entry."""
    agency_id = access.agency_id_of(by)
    require_curator(by, agency_id)
    try:
        with transaction.atomic():
            preview = directory_csv_read(data=data, agency_id=agency_id)
            if not preview.ok:
                raise DirectoryError(
                    preview.file_error or "The file has problems, so nothing was imported."
                )
            result, created_ids, updated_ids = _write(preview, agency_id)
            audit_record(
                actor=by,
                action=Action.CREATE,
                object_type="coordination.organization_import",
                detail={
                    "sha256": preview.sha256,
                    "created": created_ids,
                    "updated": updated_ids,
                    "unchanged": result.unchanged,
                },
            )
    except IntegrityError:
        raise DirectoryError(
            "Someone changed the directory while the file was being imported, so nothing was "
            "imported. Upload the file again."
        ) from None
    return result


def _write(preview: ImportPreview, agency_id: int) -> tuple[ImportResult, list[int], list[int]]:
    columns = set(preview.columns)
    text_columns = [c for c in (*TEXT_COLUMNS, "accepting_referrals") if c in columns]
    now = timezone.now()
    new = [
        Organization(
            agency_id=agency_id,
            updated_at=now,
            **{c: row.values[c] for c in text_columns},
        )
        for row in preview.new_rows
    ]
    created = Organization.objects.bulk_create(new)
    matched = {
        org.pk: org
        for org in Organization.objects.filter(
            pk__in=[row.existing_id for row in preview.updated_rows]
        )
    }
    services_now: dict[int, set[str]] = {}
    if "service_types" in columns:
        for org_id, code in OrganizationService.objects.filter(
            organization_id__in=list(matched)
        ).values_list("organization_id", "service_type"):
            services_now.setdefault(org_id, set()).add(code)
    changed_orgs: list[Organization] = []
    changed_fields: set[str] = set()
    updated_ids: list[int] = []
    to_add: list[OrganizationService] = []
    to_remove: list[tuple[int, str]] = []
    for row in preview.updated_rows:
        assert row.existing_id is not None
        org = matched[row.existing_id]
        fields = [c for c in text_columns if getattr(org, c) != row.values[c]]
        for column in fields:
            setattr(org, column, row.values[column])
        services_changed = False
        if "service_types" in columns:
            wanted, have = set(row.values["service_types"]), services_now.get(org.pk, set())
            to_add += _service_rows(agency_id, org.pk, wanted - have)
            to_remove += [(org.pk, code) for code in have - wanted]
            services_changed = wanted != have
        if fields or services_changed:
            org.updated_at = now
            changed_orgs.append(org)
            changed_fields.update(fields)
            updated_ids.append(org.pk)
    if changed_orgs:
        Organization.objects.bulk_update(
            changed_orgs, [*sorted(changed_fields), "updated_at"], batch_size=500
        )
    for code in sorted({code for _, code in to_remove}):
        OrganizationService.objects.filter(
            organization_id__in=[org_id for org_id, c in to_remove if c == code], service_type=code
        ).delete()
    if "service_types" in columns:
        for org, row in zip(created, preview.new_rows, strict=True):
            to_add += _service_rows(agency_id, org.pk, set(row.values["service_types"]))
    OrganizationService.objects.bulk_create(to_add, batch_size=1000)
    result = ImportResult(
        created=len(created),
        updated=len(updated_ids),
        unchanged=len(preview.updated_rows) - len(updated_ids),
    )
    return result, [org.pk for org in created], updated_ids


def _service_rows(agency_id: int, org_id: int, codes: set[str]) -> list[OrganizationService]:
    return [
        OrganizationService(agency_id=agency_id, organization_id=org_id, service_type=code)
        for code in sorted(codes)
    ]
