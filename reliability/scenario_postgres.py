"""Scenario "postgres": PostgreSQL restarted (-m fast) and crashed (-m immediate) under HTTP
load, gunicorn never restarted (docs/RELIABILITY.md)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass

from harness import (
    Answer,
    page_form,
    replace_field,
)
from world import (
    AFTER_RESTART,
    Run,
    fresh_db,
)


@dataclass
class Hit:
    started: float
    ended: float
    kind: str
    status: int
    error: str = ""  # no HTTP answer: the exception; a 5xx: the error page's title
    retry_after: bool = False

    def __str__(self) -> str:
        return f"{self.status} {self.kind} {self.error}".strip()


PAGE_TITLE = re.compile(r"<title>\s*(.*?)\s*</title>", re.S)


def scenario_postgres(run: Run) -> None:
    from casework.core.models import AuditEvent
    from casework.notes.models import Note

    name = "postgres"
    browser = run.browser(run.world.cm_session)
    browser.get("/")  # the CSRF cookie first: pages loaded at once would each set a new one
    hits: list[Hit] = []
    acked: dict[int, int] = {}  # note id -> last counter the app answered 200 for
    tried: dict[int, int] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def record(kind: str, started: float, answer: Answer) -> None:
        error = answer.error
        if answer.status >= 400:  # the error page's title; the traceback is in gunicorn.log
            title = PAGE_TITLE.search(answer.body)
            error = (title.group(1) if title else "")[
                :80
            ] + f" ({answer.headers.get('x-request-id', '')})"
        with lock:
            hits.append(
                Hit(
                    started,
                    time.monotonic(),
                    kind,
                    answer.status,
                    error,
                    retry_after="retry-after" in answer.headers,
                )
            )

    def reader(paths: list[str]) -> None:
        k = 0
        while not stop.is_set():
            started = time.monotonic()
            record("read", started, browser.get(paths[k % len(paths)]))
            k += 1
            time.sleep(0.02)

    def writer(note_id: int) -> None:
        path = f"/notes/{note_id}/edit/"
        counter = 0
        form: list[tuple[str, str]] | None = None
        while not stop.is_set():
            if form is None:
                page = browser.get(path)
                form = page_form(page.body, path) if page.status == 200 else None
                if form is None:
                    time.sleep(0.1)
                    continue
            counter += 1
            fields = replace_field(form, "section_data", f"Load write {counter}.")
            with lock:
                tried[note_id] = counter
            started = time.monotonic()
            answer = browser.post(f"/notes/{note_id}/autosave/", fields)
            record("write", started, answer)
            if answer.status == 200 and '"saved": true' in answer.body:
                with lock:
                    acked[note_id] = counter
                version = re.search(r'"version": (\d+)', answer.body)
                form = replace_field(form, "version", version.group(1)) if version else None
            else:
                form = None  # reload the page (the version may have moved on)
            time.sleep(0.03)

    charts = [f"/clients/{pk}/" for pk in run.world.chart_ids]
    threads = [
        threading.Thread(target=reader, args=(["/", *charts[:4]],)),
        threading.Thread(target=reader, args=([*charts[4:], "/"],)),
        *(threading.Thread(target=writer, args=(pk,)) for pk in run.world.load_notes),
    ]
    fresh_db()
    for thread in threads:
        thread.start()
    outages: list[tuple[str, float, float]] = []
    try:
        time.sleep(1.5)
        for mode in ("fast", "immediate"):
            down = time.monotonic()
            if mode == "fast":
                run.cluster.restart("fast")
            else:
                run.cluster.stop("immediate")  # a crash: no checkpoint, recovery on start
                time.sleep(1.5)
                run.cluster.start()
            up = time.monotonic()
            outages.append((mode, down, up))
            run.report.note(f"PostgreSQL {mode} restart: down {up - down:.1f} s")
            time.sleep(AFTER_RESTART)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    timeout_hits = [h for h in hits if h.status == 0]
    run.check(
        name,
        "no request hangs or loses its connection",
        not timeout_hits and max(h.ended - h.started for h in hits) < 20,
        f"{len(hits)} requests, slowest {max(h.ended - h.started for h in hits):.2f} s, "
        f"{len(timeout_hits)} without an HTTP answer",
    )
    ends = [down for _, down, _ in outages[1:]] + [float("inf")]
    for (mode, down, up), next_down in zip(outages, ends, strict=True):
        during = [h for h in hits if h.ended >= down and h.started <= up]
        # 503 "try again" (core.views_errors), also when the session save lost its connection
        # (core.sessions): not Django's 500, nor its 400 "session deleted" (docs/RELIABILITY.md).
        bad = [h for h in during if h.status not in {200, 503}]
        run.check(
            name,
            f"{mode}: requests during the outage are answered 200 or 503 with Retry-After",
            not bad and all(h.retry_after for h in during if h.status == 503),
            f"{len(during)} requests, statuses {dict(Counter(h.status for h in during))}",
        )
        # Requests wholly between this restart and the next outage.
        after = sorted(
            (h for h in hits if up < h.started < up + AFTER_RESTART and h.ended < next_down),
            key=lambda h: h.started,
        )
        first_ok = next((h.ended - up for h in after if h.status == 200), None)
        failed_after = [h for h in after if h.status != 200]
        run.check(
            name,
            f"{mode}: serves 200 again without restarting gunicorn",
            first_ok is not None and first_ok < AFTER_RESTART,
            f"first 200 after {first_ok:.2f} s" if first_ok is not None else "no 200",
        )
        run.check(
            name,
            f"{mode}: no request fails once PostgreSQL is back",
            bool(after) and not failed_after,
            f"{len(failed_after)} of {len(after)} failed"
            + "".join(f"; {h} at +{h.started - up:.2f} s" for h in failed_after[:4]),
        )

    fresh_db()
    half = []
    for note in Note.objects.filter(pk__in=run.world.load_notes):
        text = (note.sections or {}).get("data", "")
        saved = int(m.group(1)) if (m := re.search(r"Load write (\d+)\.", text)) else 0
        updates = AuditEvent.objects.filter(
            object_type="notes.note", object_id=str(note.pk), action="update"
        ).count()
        # Every committed save bumps the version and writes its audit entry in one
        # transaction; the text is the last acknowledged save, or the one whose answer was lost.
        if (
            saved not in {acked.get(note.pk, 0), tried.get(note.pk, 0)}
            or note.version != 1 + updates
        ):
            half.append(
                f"note {note.pk}: text {saved}, acked {acked.get(note.pk)}, "
                f"version {note.version}, {updates} audited saves"
            )
    run.check(
        name,
        "no write is half-done or lost",
        not half and bool(acked),
        "; ".join(half) or f"{sum(acked.values())} saves acknowledged",
    )
