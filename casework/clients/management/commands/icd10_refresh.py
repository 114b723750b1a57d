"""Regenerate the shipped ICD-10-CM code file from the simple-icd-10-cm package (a dev dependency)."""

from __future__ import annotations

import gzip
from typing import Any

from django.core.management.base import BaseCommand

from casework.clients.icd10 import CODE_FILE


class Command(BaseCommand):
    help = "Write clients/data/icd10cm.tsv.gz from the installed simple-icd-10-cm release."

    def handle(self, *args: Any, **options: Any) -> None:
        import simple_icd_10_cm as icd  # slow to import (parses the XML release), so only here

        lines = []
        for code in icd.get_all_codes(True):
            if "-" in code or len(code) < 3 or not code[0].isalpha():
                continue  # chapters ("1") and blocks ("F20-F29") are not codes
            billable = "1" if icd.is_leaf(code) else "0"
            description = " ".join(str(icd.get_description(code)).split())
            lines.append(f"{code}\t{billable}\t{description}")
        payload = ("\n".join(sorted(set(lines))) + "\n").encode("utf-8")
        CODE_FILE.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
        self.stdout.write(f"Wrote {len(lines)} codes to {CODE_FILE}")
