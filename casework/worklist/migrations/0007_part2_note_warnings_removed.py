"""Early warnings no longer read a 42 CFR Part 2 program's notes (worklist.warnings): a warning
is shown to everyone on the chart. Warnings already raised from such a note, open or
acknowledged, are removed, so what the note recorded stops showing outside the program. A plan
task made when one was acknowledged stays with its assignee (its text is the acknowledger's)."""

from django.db import migrations

NOTE_KEY = "note:"


def remove_part2_note_warnings(apps, schema_editor):
    ClientWarning = apps.get_model("worklist", "ClientWarning")
    Note = apps.get_model("notes", "Note")
    from_notes = ClientWarning.objects.filter(evidence_key__startswith=NOTE_KEY)
    note_ids = {
        int(key.removeprefix(NOTE_KEY))
        for key in from_notes.values_list("evidence_key", flat=True)
        if key.removeprefix(NOTE_KEY).isdigit()
    }
    part2 = Note.objects.filter(pk__in=note_ids, program__is_part2=True).values_list(
        "pk", flat=True
    )
    keys = [f"{NOTE_KEY}{pk}" for pk in part2]
    from_notes.filter(evidence_key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("worklist", "0006_task_link"),
        ("notes", "0006_note_program"),
    ]

    operations = [
        migrations.RunPython(remove_part2_note_warnings, migrations.RunPython.noop),
    ]
