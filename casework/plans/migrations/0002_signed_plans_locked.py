"""Signed means locked (ARCHITECTURE rule 4): a signed plan and everything in it never change.

A review makes the next version instead. Signatures and objective progress are permanent.
As for notes: SQLite refuses UPDATE and INSERT (Django empties SQLite tables with DELETE);
PostgreSQL refuses UPDATE, INSERT and DELETE.
"""

from django.db import migrations

PLAN_LOCKED = [
    "agency_id", "client_id", "number", "previous_id", "status", "starts_on", "review_due_on",
    "strengths", "barriers", "participation", "review_summary", "author_id", "signed_at",
    "signed_by_id", "created_at",
]
PARTS = ["plans_planneed", "plans_plangoal", "plans_planobjective", "plans_planintervention"]
PERMANENT = ["plans_plansignature", "plans_objectiveprogress"]
MESSAGE = "signed service plan is locked: start a review to make the next version"

SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in PLAN_LOCKED)
SQLITE_PLAN_SIGNED = "(SELECT signed_at FROM plans_serviceplan WHERE id = {row}.plan_id) IS NOT NULL"
SQLITE_FORWARD = [
    "CREATE TRIGGER plans_signed_locked BEFORE UPDATE ON plans_serviceplan "
    f"WHEN OLD.signed_at IS NOT NULL AND ({SQLITE_CHANGED}) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
for table in PARTS:
    SQLITE_FORWARD += [
        f"CREATE TRIGGER {table}_insert_locked BEFORE INSERT ON {table} "
        f"WHEN {SQLITE_PLAN_SIGNED.format(row='NEW')} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        f"CREATE TRIGGER {table}_update_locked BEFORE UPDATE ON {table} "
        f"WHEN {SQLITE_PLAN_SIGNED.format(row='OLD')} OR {SQLITE_PLAN_SIGNED.format(row='NEW')} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    ]
for table in PERMANENT:
    SQLITE_FORWARD.append(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are permanent'); END;"
    )
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS plans_signed_locked;"]
SQLITE_BACKWARD += [f"DROP TRIGGER IF EXISTS {t}_insert_locked;" for t in PARTS]
SQLITE_BACKWARD += [f"DROP TRIGGER IF EXISTS {t}_update_locked;" for t in PARTS]
SQLITE_BACKWARD += [f"DROP TRIGGER IF EXISTS {t}_no_update;" for t in PERMANENT]

PG_OLD = ", ".join(f"OLD.{c}" for c in PLAN_LOCKED)
PG_NEW = ", ".join(f"NEW.{c}" for c in PLAN_LOCKED)
POSTGRES_FORWARD = [
    f"""
    CREATE FUNCTION plans_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.signed_at IS NOT NULL AND (TG_OP = 'DELETE'
           OR ROW({PG_OLD}) IS DISTINCT FROM ROW({PG_NEW})) THEN
            RAISE EXCEPTION '{MESSAGE}';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    "CREATE TRIGGER plans_signed_locked BEFORE UPDATE OR DELETE ON plans_serviceplan "
    "FOR EACH ROW EXECUTE FUNCTION plans_lock();",
    f"""
    CREATE FUNCTION plans_part_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (TG_OP <> 'INSERT' AND EXISTS (
                SELECT 1 FROM plans_serviceplan WHERE id = OLD.plan_id AND signed_at IS NOT NULL))
           OR (TG_OP <> 'DELETE' AND EXISTS (
                SELECT 1 FROM plans_serviceplan WHERE id = NEW.plan_id AND signed_at IS NOT NULL))
        THEN
            RAISE EXCEPTION '{MESSAGE}';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    """
    CREATE FUNCTION plans_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% rows are permanent: % refused', TG_TABLE_NAME, TG_OP;
    END;
    $$;
    """,
]
for table in PARTS:
    POSTGRES_FORWARD.append(
        f"CREATE TRIGGER {table}_locked BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION plans_part_lock();"
    )
for table in PERMANENT:
    POSTGRES_FORWARD.append(
        f"CREATE TRIGGER {table}_permanent BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION plans_permanent();"
    )
POSTGRES_BACKWARD = ["DROP TRIGGER IF EXISTS plans_signed_locked ON plans_serviceplan;"]
POSTGRES_BACKWARD += [f"DROP TRIGGER IF EXISTS {t}_locked ON {t};" for t in PARTS]
POSTGRES_BACKWARD += [f"DROP TRIGGER IF EXISTS {t}_permanent ON {t};" for t in PERMANENT]
POSTGRES_BACKWARD += [
    "DROP FUNCTION IF EXISTS plans_lock();",
    "DROP FUNCTION IF EXISTS plans_part_lock();",
    "DROP FUNCTION IF EXISTS plans_permanent();",
]


def forward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_FORWARD if postgres else SQLITE_FORWARD:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_BACKWARD if postgres else SQLITE_BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
