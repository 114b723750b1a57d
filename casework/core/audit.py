"""The audit log: who did what to which record, when and from where.

Each agency has its own hash chain (the system chain, 0, holds events with no agency, such as
failed sign-ins with an unknown email). An entry's hash covers its fields and the previous
entry's hash, so changing or removing any entry breaks every later hash; `audit_verify` finds
the first break. The database refuses UPDATE and DELETE on the table (migration 0002).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from casework.core.models import AuditEvent

if TYPE_CHECKING:
    from casework.core.models import User

Action = AuditEvent.Action
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class RequestContext:
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


NO_REQUEST = RequestContext()
current_request: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("casework_request")


def _hash_fields(event: AuditEvent) -> str:
    payload = json.dumps(
        [
            event.chain,
            event.seq,
            event.occurred_at.isoformat(),
            event.agency_id,
            event.actor_id,
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.client_id,
            event.ip,
            event.user_agent,
            event.request_id,
            event.detail,
            event.prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_chain(chain: int) -> None:
    """Serialise appends to one chain so two requests cannot both extend the same entry."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x0A0D17, chain])
    # SQLite: transactions run in IMMEDIATE mode (settings), which already holds the write lock.


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    client_id: int | None = None,
    agency_id: int | None = None,
    actor_label: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry. Call it inside the transaction of the change it records."""
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or obj.pk
    if agency_id is None and actor is not None:
        agency_id = actor.agency_id
    if actor is not None and not actor_label:
        actor_label = actor.email
    context = current_request.get(NO_REQUEST)
    chain = agency_id or 0
    with transaction.atomic():
        _lock_chain(chain)
        last = (
            AuditEvent.objects.filter(chain=chain)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event = AuditEvent(
            chain=chain,
            seq=seq,
            occurred_at=timezone.now(),
            agency_id=agency_id,
            actor_id=actor.pk if actor is not None else None,
            actor_label=actor_label[:254],
            action=action,
            object_type=object_type[:64],
            object_id=str(object_id)[:64],
            client_id=client_id,
            ip=context.ip[:45],
            user_agent=context.user_agent[:300],
            request_id=context.request_id[:64],
            detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), default=str),
            prev_hash=prev_hash,
        )
        event.hash = _hash_fields(event)
        event.save(force_insert=True)
    return event


def audit_reads(*, actor: User, client_ids: list[int], section: str) -> None:
    """One VIEW entry per client shown (e.g. an API list page), appended under a single lock."""
    if not client_ids:
        return
    context = current_request.get(NO_REQUEST)
    chain = actor.agency_id or 0
    with transaction.atomic():
        _lock_chain(chain)
        last = (
            AuditEvent.objects.filter(chain=chain)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        now = timezone.now()
        events = []
        for client_id in client_ids:
            event = AuditEvent(
                chain=chain,
                seq=seq,
                occurred_at=now,
                agency_id=actor.agency_id,
                actor_id=actor.pk,
                actor_label=actor.email[:254],
                action=Action.VIEW,
                object_type="clients.client",
                object_id=str(client_id),
                client_id=client_id,
                ip=context.ip[:45],
                user_agent=context.user_agent[:300],
                request_id=context.request_id[:64],
                detail=json.dumps({"section": section}, sort_keys=True, separators=(",", ":")),
                prev_hash=prev_hash,
            )
            event.hash = _hash_fields(event)
            events.append(event)
            seq, prev_hash = seq + 1, event.hash
        AuditEvent.objects.bulk_create(events)


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    chain: int
    seq: int
    reason: str


def audit_chain_breaks(*, batch_size: int = 5000) -> Iterator[ChainBreak]:
    """Walk every chain in order and yield the first break of each chain."""
    chains = AuditEvent.objects.order_by().values_list("chain", flat=True).distinct()
    for chain in sorted(set(chains)):
        expected_prev, expected_seq = GENESIS_HASH, 1
        events = (
            AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=batch_size)
        )
        for event in events:
            reason = ""
            if event.seq != expected_seq:
                reason = f"entry {expected_seq} is missing (found {event.seq} next)"
            elif event.prev_hash != expected_prev:
                reason = "its link to the previous entry does not match"
            elif _hash_fields(event) != event.hash:
                reason = "its content does not match its hash (it was changed)"
            if reason:
                yield ChainBreak(event_id=event.pk, chain=chain, seq=event.seq, reason=reason)
                break
            expected_prev, expected_seq = event.hash, event.seq + 1
