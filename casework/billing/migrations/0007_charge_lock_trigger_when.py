"""Run the billed-charge lock only for rows that are billed or void (PostgreSQL).

A trigger-level WHEN keeps PostgreSQL from calling the function for every ready charge a
claim batch marks billed; the rule itself is unchanged (see 0006). SQLite's trigger already
has its condition in WHEN.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "DROP TRIGGER IF EXISTS billing_charge_locked ON billing_charge;",
    "CREATE TRIGGER billing_charge_locked BEFORE UPDATE OR DELETE ON billing_charge "
    "FOR EACH ROW WHEN (OLD.status IN ('billed', 'void')) "
    "EXECUTE FUNCTION billing_charge_lock();",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_charge_locked ON billing_charge;",
    "CREATE TRIGGER billing_charge_locked BEFORE UPDATE OR DELETE ON billing_charge "
    "FOR EACH ROW EXECUTE FUNCTION billing_charge_lock();",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_charges_locked_once_billed")]

    operations = [migrations.RunPython(forward, backward)]
