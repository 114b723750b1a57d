"""Signing in: Django's model backend, with the user's agency read in the same query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from casework.core.models import User


class StaffBackend(ModelBackend):
    """Every signed-in page reads the user's agency (its time zone, its scope): one query for
    both instead of two on every request."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("agency").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
