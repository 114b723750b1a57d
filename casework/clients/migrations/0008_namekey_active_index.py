# Written by hand on 2026-12-04: the partial index of 0007's column, built without stopping
# searches and edits on PostgreSQL (about 45 s for 17 million keys there).

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, which reads and writes go on during; a plain
    CREATE INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ('clients', '0007_namekey_client_is_active'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name='namekey',
            index=models.Index(condition=models.Q(('client_is_active', True)), fields=['agency', 'key', 'client'], name='clients_namekey_active'),
        ),
    ]
