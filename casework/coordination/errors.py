"""The one error the coordination services raise: its message is shown to the person as is."""


class CoordinationError(Exception):
    """Something the person asked cannot be done; the message says why and what to do."""
