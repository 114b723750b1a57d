"""The program a note was written under, so that a 42 CFR Part 2 program's notes are read by its
own staff only (casework.core.access), and the signed-note lock extended to it.

Notes signed before this migration get the program the signing service would have chosen (one
the author works in and the client was enrolled in on the service date, a Part 2 program first),
from the teams as they are now: team history is not kept, so this is the best reading there is.

Adding a nullable column is an ALTER TABLE on SQLite (no table rebuild), so the lock survives;
it is recreated anyway with `program_id` among the locked columns, on both databases.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q

LOCKED_COLUMNS = [
    "agency_id", "client_id", "author_id", "group_id", "service_date", "start_at", "end_at",
    "contact_type", "place_of_service", "service_code_id", "present", "template", "sections",
    "shared_text", "goals_addressed", "mileage", "travel_minutes", "interpreter_used",
    "interpreter_language", "signed_at", "minutes", "attestation", "late_reason",
    "cosign_required", "created_at", "appointment_id", "medication_adherence", "events",
    "program_id",
]
VOID_COLUMNS = ["voided_at", "voided_by_id", "void_reason"]
COSIGN_COLUMNS = ["cosigned_at", "cosigned_by_id"]
MESSAGE = "signed note is locked: write an addendum instead"


def _changed(columns, old="OLD", new="NEW", op="IS NOT"):
    return " OR ".join(f"{new}.{c} {op} {old}.{c}" for c in columns)


SQLITE_CONDITION = (
    f"OLD.signed_at IS NOT NULL AND ({_changed(LOCKED_COLUMNS)} OR NEW.status = 'draft'"
    f" OR (OLD.status = 'void' AND NEW.status IS NOT 'void')"
    f" OR (OLD.voided_at IS NOT NULL AND ({_changed(VOID_COLUMNS)}))"
    f" OR (OLD.cosigned_at IS NOT NULL AND ({_changed(COSIGN_COLUMNS)})))"
)
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS notes_note_signed_locked;",
    f"CREATE TRIGGER notes_note_signed_locked BEFORE UPDATE ON notes_note WHEN {SQLITE_CONDITION} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
PG_CONDITION = SQLITE_CONDITION.replace(" IS NOT ", " IS DISTINCT FROM ")
POSTGRES_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION notes_note_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.signed_at IS NOT NULL THEN
                RAISE EXCEPTION '{MESSAGE}';
            END IF;
            RETURN OLD;
        END IF;
        IF {PG_CONDITION} THEN
            RAISE EXCEPTION '{MESSAGE}';
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
]


def backfill(apps, schema_editor):
    Note = apps.get_model("notes", "Note")
    Episode = apps.get_model("clients", "Episode")
    Program = apps.get_model("core", "Program")
    TeamMembership = apps.get_model("core", "TeamMembership")
    staff_of = {}
    memberships = TeamMembership.objects.filter(team__is_active=True, team__program__isnull=False)
    for program_id, user_id in memberships.values_list("team__program_id", "user_id"):
        staff_of.setdefault(program_id, set()).add(user_id)
    part2 = set(Program.objects.filter(is_part2=True).values_list("pk", flat=True))
    # One UPDATE per program (not per client: an agency's millions of notes would take long),
    # Part 2 programs last, so that where two programs fit, the Part 2 one is what stays.
    for program_id in sorted(staff_of, key=lambda pk: (pk in part2, -pk)):
        enrolled = Episode.objects.filter(
            Q(discharged_on__isnull=True) | Q(discharged_on__gte=OuterRef("service_date")),
            client_id=OuterRef("client_id"),
            program_id=program_id,
            admitted_on__lte=OuterRef("service_date"),
        )
        Note.objects.filter(
            Exists(enrolled),
            author_id__in=sorted(staff_of[program_id]),
            signed_at__isnull=False,
        ).update(program_id=program_id)


def lock(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_FORWARD if postgres else SQLITE_FORWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0005_acuity_and_contact_standard"),
        ("core", "0007_api_token_outside_organization"),
        ("notes", "0005_signed_note_lock_again"),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="program",
            field=models.ForeignKey(
                blank=True,
                help_text="The program the service was given under, fixed at signing: one the "
                "author works in and the client was enrolled in on the service date, a 42 CFR "
                "Part 2 program first. A Part 2 program's notes are read by its own staff "
                "(casework.core.access).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.program",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(lock, migrations.RunPython.noop),
    ]
