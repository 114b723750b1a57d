"""OpenAPI pieces shared by the API's views: security schemes and the error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Field errors ({"field": ["message", …]}) or, for a body that is not JSON, {"detail": "…"}.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
}


def _detail(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=DETAIL_SCHEMA, description=description)


BAD_REQUEST = OpenApiResponse(
    response=FIELD_ERRORS_SCHEMA, description="The input was refused; each field says why."
)
UNAUTHENTICATED = _detail("No token, or the token is expired, revoked or unknown.")
FORBIDDEN = _detail("Your role may not do this.")
NOT_FOUND = _detail("Not found, or not yours to see.")
THROTTLED = _detail("Too many requests; wait and try again.")

READ_ERRORS: dict[int, OpenApiResponse] = {401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}
OBJECT_ERRORS: dict[int, OpenApiResponse] = {**READ_ERRORS, 404: NOT_FOUND}

# A domain rule refused the change (casework.assessments / casework.plans services): the message
# to show, and the input field it belongs to (null when it is about the record as a whole).
DOMAIN_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "field": {"type": "string", "nullable": True}},
    "required": ["detail", "field"],
}
DOMAIN_BAD_REQUEST = OpenApiResponse(
    response={"anyOf": [DOMAIN_ERROR_SCHEMA, FIELD_ERRORS_SCHEMA]},
    description='The input was refused: either {"detail": "…", "field": "…"} from the rules of '
    'the record, or {"field": ["…"]} for input of the wrong shape.',
)
CONFLICT = OpenApiResponse(
    response=DOMAIN_ERROR_SCHEMA,
    description="The record is signed and locked: it cannot change (add an addendum or start a "
    "review instead).",
)
PRECONDITION_FAILED = OpenApiResponse(
    response=DETAIL_SCHEMA,
    description="Saved elsewhere since you read it: read it again and send its new ETag as "
    "If-Match.",
)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Personal API tokens, made on the account page: `Authorization: Bearer cw_…`."""

    target_class = "casework.api.authentication.ApiTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from /account/api-tokens/ (shown once when made).",
        }


class VerifiedSessionScheme(SessionScheme):
    """The browser session (after two-factor sign-in), used by the interactive docs."""

    target_class = "casework.api.authentication.VerifiedSessionAuthentication"
