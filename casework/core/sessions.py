"""Sessions in the database, with a lost database told apart from a lost session."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import InterfaceError, OperationalError


class SessionStore(db.SessionStore):
    """Django's database session store (settings.SESSION_ENGINE points at this module)."""

    def save(self, must_create: bool = False) -> None:
        """Django reports any database error while saving a session as "the session was
        deleted" (a 400). When the database itself went away, say so: the error page then
        answers 503, "try again", which is what happened (docs/RELIABILITY.md)."""
        try:
            super().save(must_create=must_create)
        except UpdateError as error:
            cause = error.__context__
            if isinstance(cause, OperationalError | InterfaceError):
                raise cause from None
            raise
