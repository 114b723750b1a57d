"""Scenarios "sign" and "batch": kill -9 of gunicorn while notes are signed and while a claim
batch is written (docs/RELIABILITY.md)."""

from __future__ import annotations

import datetime
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from harness import (
    Answer,
    Browser,
    page_form,
    replace_field,
)
from world import (
    SIGN_NOTES,
    Run,
    count_ids,
    db_scalar,
    fresh_db,
    wait_until,
)


def _sign_form(browser: Browser, note_id: int) -> list[tuple[str, str]] | None:
    """The note's edit form as the browser has it, with "Sign" pressed and the box ticked."""
    path = f"/notes/{note_id}/edit/"
    page = browser.get(path)
    if page.status != 200:
        return None
    fields = page_form(page.body, path)
    return [*replace_field(fields, "attest", "on"), ("action", "sign")]


def _charges_per_note(note_ids: list[int]) -> Counter[int]:
    from casework.billing.models import Charge

    return Counter(Charge.objects.filter(note_id__in=note_ids).values_list("note_id", flat=True))


def scenario_sign(run: Run) -> None:
    from casework.billing.models import Charge
    from casework.notes.models import Note

    name = "sign"
    ids = run.world.sign_notes
    browser = run.browser(run.world.cm_session)
    browser.get("/")  # the CSRF cookie first: pages loaded at once would each set a new one
    with ThreadPoolExecutor(max_workers=8) as loader:
        forms = dict(zip(ids, loader.map(lambda n: _sign_form(browser, n), ids), strict=True))
    if not run.check(name, "every draft's edit form loads", all(forms.values())):
        return
    answers: dict[int, Answer] = {}
    done = threading.Semaphore(0)

    def sign(note_id: int) -> None:
        answers[note_id] = browser.post(f"/notes/{note_id}/edit/", forms[note_id] or [])
        done.release()

    pool = ThreadPoolExecutor(max_workers=16)
    for note_id in ids:
        pool.submit(sign, note_id)
    deadline = time.monotonic() + 30
    for _ in range(SIGN_NOTES // 4):  # kill once a quarter have answered: the rest are in flight
        done.acquire(timeout=max(0.0, deadline - time.monotonic()))
    fresh_db()
    open_transactions = db_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
    )
    run.kill_web()
    pool.shutdown(wait=True)
    acked = {n for n, a in answers.items() if a.status == 302 and "/edit/" not in a.location}
    # Refused connections came after the kill; reset ones were cut mid-request.
    cut = sum(1 for a in answers.values() if a.status == 0 and a.error != "ConnectionRefusedError")
    run.report.note(
        f"killed gunicorn: answers {dict(Counter(a.status for a in answers.values()))}, "
        f"{len(acked)} signed, {cut} cut off, "
        f"{open_transactions} database transactions open just before the kill"
    )
    run.check(
        name,
        "the kill hit requests in flight",
        cut > 0 or open_transactions > 0,
        f"{cut} requests cut off, {open_transactions} transactions open",
    )

    seconds = run.start_web()
    run.report.note(f"gunicorn restarted, serving in {seconds:.1f} s")
    fresh_db()
    notes = {n.pk: n for n in Note.objects.filter(pk__in=ids)}
    charges = _charges_per_note(ids)
    signed = {pk for pk, n in notes.items() if n.status == Note.Status.SIGNED}
    run.check(
        name,
        "no answered sign is lost",
        acked <= signed,
        f"{len(acked)} answered, {len(acked & signed)} of them signed",
    )
    consistent = [
        pk
        for pk, n in notes.items()
        if (n.status == Note.Status.SIGNED and charges[pk] == 1 and n.signed_at is not None)
        or (n.status == Note.Status.DRAFT and charges[pk] == 0 and n.signed_at is None)
    ]
    run.check(
        name,
        "each note is signed with one charge, or a draft with none",
        len(consistent) == len(ids),
        f"{len(signed)} signed, {len(ids) - len(signed)} drafts, "
        f"{len(ids) - len(consistent)} inconsistent",
    )

    # The person reloads each page and presses Sign again, drafts and signed notes alike.
    def sign_again(note_id: int) -> Answer:
        path = f"/notes/{note_id}/edit/"
        form = _sign_form(browser, note_id)  # None: signed already, the page redirects
        return browser.post(path, form if form else forms[note_id] or [])

    with ThreadPoolExecutor(max_workers=8) as again_pool:
        again = dict(zip(ids, again_pool.map(sign_again, ids), strict=True))
    fresh_db()
    statuses = Counter(Note.objects.filter(pk__in=ids).values_list("status", flat=True))
    charges = _charges_per_note(ids)
    run.check(
        name,
        "signing again signs every draft",
        statuses == Counter({Note.Status.SIGNED: len(ids)}),
        f"{dict(statuses)}; answers {dict(Counter(a.status for a in again.values()))}",
    )
    run.check(
        name,
        "exactly one charge per signed note",
        all(charges[n] == 1 for n in ids),
        f"{sum(charges.values())} charges for {len(ids)} notes",
    )
    doubled = (
        Charge.objects.values("note_id").order_by().annotate(n=count_ids()).filter(n__gt=1).count()
    )
    run.check(name, "no note anywhere has two charges", doubled == 0, f"{doubled} doubled")


SEGMENT_ID = re.compile(r"^[A-Z0-9]{2,3}$")


def batch_file_problems(content: str, claim_count: int) -> list[str]:
    """Whole-file checks of an 837P: envelope closed, counts and control numbers agree."""
    if len(content) < 106 or not content.startswith("ISA"):
        return ["does not start with an ISA segment"]
    element, terminator = content[3], content[105]
    segments = [s.strip() for s in content.split(terminator) if s.strip()]
    problems = []
    parts = [s.split(element) for s in segments]
    if any(not SEGMENT_ID.match(p[0]) for p in parts):
        problems.append("a segment without a valid id (cut in the middle?)")
    if parts[-1][0] != "IEA":
        problems.append(f"the last segment is {parts[-1][0]}, not IEA")
        return problems
    isa, iea = parts[0], parts[-1]
    if iea[2] != isa[13]:
        problems.append("IEA control number differs from ISA's")
    groups = [p for p in parts if p[0] == "GS"]
    if int(iea[1]) != len(groups):
        problems.append(f"IEA counts {iea[1]} groups, the file has {len(groups)}")
    start = None
    transactions = 0
    for index, p in enumerate(parts):
        if p[0] == "ST":
            start, transactions = index, transactions + 1
        elif p[0] == "SE" and start is not None:
            if int(p[1]) != index - start + 1:
                problems.append(f"SE counts {p[1]} segments, the set has {index - start + 1}")
            if p[2] != parts[start][2]:
                problems.append("SE control number differs from ST's")
            start = None
    ge = [p for p in parts if p[0] == "GE"]
    if not ge or int(ge[0][1]) != transactions:
        problems.append("GE's transaction count is wrong")
    claims = sum(1 for p in parts if p[0] == "CLM")
    if claims != claim_count:
        problems.append(f"{claims} CLM segments for {claim_count} claims")
    return problems


def _batch_checks(run: Run, name: str, when: str) -> None:
    import hashlib

    from casework.billing.models import Charge, ClaimBatch, ClaimLine
    from casework.billing.tests.x12_validation import x12_errors

    fresh_db()
    batches = list(ClaimBatch.objects.filter(agency_id=run.world.agency_id))
    for batch in batches:
        lines = ClaimLine.objects.filter(batch=batch)
        problems = batch_file_problems(batch.content, batch.claim_count)
        if hashlib.sha256(batch.content.encode("ascii")).hexdigest() != batch.sha256:
            problems.append("content does not match its sha256")
        if lines.count() != batch.claim_count:
            problems.append(f"{lines.count()} claim lines for {batch.claim_count} claims")
        not_billed = Charge.objects.filter(
            claim_lines__batch=batch, claim_lines__frequency=ClaimLine.Frequency.ORIGINAL
        ).exclude(status=Charge.Status.BILLED)
        if not_billed.exists():
            problems.append(f"{not_billed.count()} of its charges are not marked billed")
        problems += [f"pyx12: {e}" for e in x12_errors(batch.content)[:3]]
        run.check(
            name,
            f"{when}: batch {batch.control_number:09d} is whole",
            not problems,
            "; ".join(problems) or f"{batch.claim_count} claims, ends with IEA, counts agree",
        )
    twice = (
        ClaimLine.objects.filter(frequency=ClaimLine.Frequency.ORIGINAL)
        .values("charge_id")
        .order_by()
        .annotate(n=count_ids())
        .filter(n__gt=1)
        .count()
    )
    run.check(name, f"{when}: no charge is in two batches", twice == 0, f"{twice} charges twice")
    orphans = Charge.objects.filter(status=Charge.Status.BILLED, claim_lines__isnull=True).count()
    run.check(name, f"{when}: no charge is billed without a claim line", orphans == 0, f"{orphans}")


def scenario_batch(run: Run) -> None:
    import psycopg

    from casework.billing.models import Charge, ClaimBatch

    name = "batch"
    if not run.world.payer_id:
        run.check(name, "the seed has ready charges", False)
        return
    billing = run.browser(run.world.billing_session)
    page = billing.get("/billing/batches/new/")
    if not run.check(name, "the batch form loads", page.status == 200, f"HTTP {page.status}"):
        return
    from casework.core.models import Agency

    fresh_db()
    today = Agency.objects.get(pk=run.world.agency_id).today()
    form = page_form(page.body, "/billing/batches/new/")
    form = replace_field(form, "payer", str(run.world.payer_id))
    since = today - datetime.timedelta(days=365)
    form = replace_field(form, "service_from", str(since))
    form = replace_field(form, "service_to", str(today))
    fresh_db()
    ready = list(
        Charge.objects.filter(
            payer_id=run.world.payer_id,
            status=Charge.Status.READY,
            service_date__gte=since,
            service_date__lte=today,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    run.report.note(f"{len(ready)} ready charges for the payer")

    # 1. Park the batch's transaction on a row lock after it has written the batch and its
    # claim lines (marking the charges billed waits for our lock on one charge), then kill.
    holder = psycopg.connect(run.cluster.dsn())
    holder.execute(
        f"SELECT id FROM {Charge._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608 - model's table
        (ready[-1],),
    )
    answer: list[Answer] = []
    poster = threading.Thread(
        target=lambda: answer.append(billing.post("/billing/batches/new/", form))
    )
    poster.start()
    # Watched from an autocommit connection: inside a transaction pg_stat_activity is a
    # snapshot taken at its first read.
    with psycopg.connect(run.cluster.dsn(), autocommit=True) as watcher:
        waiting = wait_until(
            lambda: bool(
                watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE %s",
                    (f"UPDATE {Charge._meta.db_table} SET status%",),  # noqa: S608 - a LIKE pattern
                ).fetchone()[0]  # type: ignore[index]
            ),
            20,
        )
    run.check(name, "the batch transaction is parked mid-write (batch and lines inserted)", waiting)
    run.kill_web()
    holder.rollback()
    holder.close()
    poster.join(timeout=20)
    run.start_web()
    fresh_db()
    batches = ClaimBatch.objects.filter(agency_id=run.world.agency_id).count()
    run.check(name, "killed mid-write: no batch was kept", batches == 0, f"{batches} batches")
    still_ready = Charge.objects.filter(pk__in=ready, status=Charge.Status.READY).count()
    run.check(
        name,
        "killed mid-write: every charge is still ready",
        still_ready == len(ready),
        f"{still_ready} of {len(ready)}",
    )

    # 2. The browser re-sends the same form (same submission key); gunicorn is killed at a
    # random moment while it works.
    poster = threading.Thread(
        target=lambda: answer.append(billing.post("/billing/batches/new/", form))
    )
    poster.start()
    time.sleep(random.uniform(0.05, 0.4))  # noqa: S311 - a kill time, not a secret
    run.kill_web()
    poster.join(timeout=20)
    run.start_web()
    fresh_db()
    made = ClaimBatch.objects.filter(agency_id=run.world.agency_id).count()
    run.report.note(f"random-moment kill: {made} batch(es) committed")
    _batch_checks(run, name, "after the random kill")

    # 3. Sent again twice more: one batch in all, with every ready charge of the payer.
    first = billing.post("/billing/batches/new/", form)
    second = billing.post("/billing/batches/new/", form)
    fresh_db()
    batches_now = list(ClaimBatch.objects.filter(agency_id=run.world.agency_id))
    run.check(
        name,
        "building the batch again works, once per submission",
        first.status == 302 and second.status == 302 and len(batches_now) == 1,
        f"answers {first.status}, {second.status}; {len(batches_now)} batch(es)",
    )
    billed = Charge.objects.filter(pk__in=ready, status=Charge.Status.BILLED).count()
    run.check(
        name, "every ready charge is billed", billed == len(ready), f"{billed} of {len(ready)}"
    )
    _batch_checks(run, name, "in the end")
