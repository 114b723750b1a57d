"""The audit table, with triggers that refuse UPDATE and DELETE (ARCHITECTURE rule 3).

The table is written by hand, not by Django, because the triggers are part of it and a test
database flush must not try to empty it.
"""

from django.db import migrations

COLUMNS = """
    chain bigint NOT NULL,
    seq bigint NOT NULL,
    occurred_at {ts} NOT NULL,
    agency_id bigint NULL,
    actor_id bigint NULL,
    actor_label varchar(254) NOT NULL,
    action varchar(32) NOT NULL,
    object_type varchar(64) NOT NULL,
    object_id varchar(64) NOT NULL,
    client_id bigint NULL,
    ip varchar(45) NOT NULL,
    user_agent varchar(300) NOT NULL,
    request_id varchar(64) NOT NULL,
    detail text NOT NULL,
    prev_hash varchar(64) NOT NULL,
    hash varchar(64) NOT NULL,
    CONSTRAINT core_auditevent_chain_seq UNIQUE (chain, seq)
"""

INDEXES = """
CREATE INDEX core_auditevent_agency_time ON core_auditevent (agency_id, occurred_at);
CREATE INDEX core_auditevent_client_time ON core_auditevent (client_id, occurred_at);
CREATE INDEX core_auditevent_actor_time ON core_auditevent (actor_id, occurred_at);
"""

SQLITE_FORWARD = [
    "CREATE TABLE core_auditevent (id integer PRIMARY KEY AUTOINCREMENT, "
    + COLUMNS.format(ts="datetime")
    + ");",
    *[s for s in INDEXES.strip().splitlines()],
    "CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END;",
    "CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete;",
    "DROP TABLE IF EXISTS core_auditevent;",
]

POSTGRES_FORWARD = [
    "CREATE TABLE core_auditevent (id bigserial PRIMARY KEY, " + COLUMNS.format(ts="timestamp with time zone") + ");",
    *[s for s in INDEXES.strip().splitlines()],
    """
    CREATE FUNCTION core_auditevent_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP;
    END;
    $$;
    """,
    "CREATE TRIGGER core_auditevent_no_update_delete BEFORE UPDATE OR DELETE ON core_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse();",
    "CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent "
    "FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse();",
]
POSTGRES_BACKWARD = [
    "DROP TABLE IF EXISTS core_auditevent;",
    "DROP FUNCTION IF EXISTS core_auditevent_refuse();",
]


def forward(apps, schema_editor):
    statements = POSTGRES_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    statements = POSTGRES_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
