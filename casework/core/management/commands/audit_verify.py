"""Verify the audit log's hash chains and name the first broken entry of each chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casework.core.audit import audit_chain_breaks
from casework.core.models import AuditEvent


class Command(BaseCommand):
    help = "Check every audit-log hash chain; exit non-zero and name the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = list(audit_chain_breaks())
        total = AuditEvent.objects.count()
        if not breaks:
            self.stdout.write(self.style.SUCCESS(f"Audit log intact: {total} entries verified."))
            return
        for item in breaks:
            self.stderr.write(
                f"Chain {item.chain}: first broken entry is id {item.event_id} (number {item.seq}): {item.reason}."
            )
        raise CommandError(f"Audit log broken in {len(breaks)} chain(s) of {total} entries.")
