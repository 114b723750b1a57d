"""Kept database connections survive a database restart.

Found by reliability/faults.py: after `pg_ctl restart`, each connection an app-server thread kept
(CONN_MAX_AGE) failed the first request that used it with a 500, although the server was back.
With CONN_HEALTH_CHECKS the connection is checked when a request first uses it, and replaced.
"""

from __future__ import annotations

import psycopg
import pytest
from django.core.signals import request_started
from django.db import connection


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_when_the_next_request_uses_it() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Connections are kept between requests on PostgreSQL only.")
    assert connection.settings_dict["CONN_MAX_AGE"] > 0  # kept, so it can go stale
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
    ) as other:
        # What a restart does to every session; waits (up to 5 s) until it has ended.
        (ended,) = other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()
    assert ended

    request_started.send(sender=__name__)  # as the WSGI handler does for every request
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
