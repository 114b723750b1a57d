"""Simulated staff for the load test: a working day's mix of pages and writes, run by
`bench/load/run.py` (which makes the accounts file this reads, named by LOAD_ACCOUNTS).

Each simulated person is one distinct staff member, signed in through a session the runner
made beforehand (see `run.py`, `make_sessions`, for why), and behaves by role:

- case managers open My day, open charts from their caseload, search, look at their schedule,
  write and sign notes (start from the chart, autosave, sign) and book visits;
- supervisors also look at the team board and co-sign notes waiting for them;
- the billing person looks at charges and holds and now and then builds a claim batch;
- the office (agency admin, auditor) searches the whole agency and opens charts.

Think time is 10 to 30 s between one person's actions (LOAD_WAIT_MIN / LOAD_WAIT_MAX, set by
`run.py --wait`): all of them at their desks at once, each acting every 20 s on average. That
is busier than a real day, when most case managers are in the field; `--wait 5,15` doubles it.

Requests are named by route (`/clients/[id]/`), so the report groups them. Redirects are not
followed: a POST is timed alone and the page it leads to is its own request, and a redirect to
sign-in or two-factor counts as a failure instead of a quiet 200 from the login page.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task
from locust.exception import StopUser

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
WAIT = (float(os.environ.get("LOAD_WAIT_MIN", "10")), float(os.environ.get("LOAD_WAIT_MAX", "30")))
POOLS: dict[str, deque[dict[str, Any]]] = {}
for _account in ACCOUNTS["accounts"]:
    POOLS.setdefault(_account["kind"], deque()).append(_account)

HTMX = {"HX-Request": "true", "HX-Current-URL": "/clients/"}
NOTE_TEXT = (
    "Met with the client at home. Reviewed housing paperwork and the week's medications; "
    "client reports sleeping better. Plan: call the landlord on Monday, next visit in a week."
)


class Form:
    """One <form> of a page: where it posts and its fields as the browser would send them."""

    def __init__(self, attrs: dict[str, str]) -> None:
        self.action = attrs.get("action", "")
        self.attrs = attrs
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[tuple[str, str]]] = {}

    def get(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.fields if k == name), default)

    def set(self, name: str, value: str) -> None:
        self.fields = [(k, v) for k, v in self.fields if k != name] + [(name, value)]

    def names(self) -> list[str]:
        return [k for k, _ in self.fields] + [k for k in self.options if k not in dict(self.fields)]


def form_error(page: str) -> str:
    """The first message a refused form shows (synthetic data only), for the failure report."""
    found = re.search(r'class="error-summary".*?<li>(.*?)</li>', page, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()[:160] if found else "no message"


class FormParser(HTMLParser):
    """The forms of a page with their current values (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None  # name, whether an option was selected
        self._option: tuple[str, bool] | None = None  # value, selected
        self._option_text = ""
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        flags = {k for k, v in attrs_list if v is None or v == ""}
        if tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
        form = self._form
        if form is None:
            return
        name = attrs.get("name", "")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                form.options.setdefault(name, []).append((attrs.get("value", "on"), ""))
                if "checked" in flags or "checked" in attrs:
                    form.fields.append((name, attrs.get("value", "on")))
                return
            form.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, False)
            form.options[name] = []
        elif tag == "option" and self._select is not None:
            self._flush_option()
            selected = "selected" in flags or "selected" in attrs
            self._option = (attrs.get("value", ""), selected)
            self._option_text = ""
        elif tag == "textarea" and name:
            self._textarea = name
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data
        elif self._option is not None:
            self._option_text += data

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        if tag == "textarea" and self._textarea is not None:
            form.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "option":
            self._flush_option()
        elif tag == "select" and self._select is not None:
            self._flush_option()
            name, chosen = self._select
            if not chosen and form.options[name]:
                form.fields.append((name, form.options[name][0][0]))
            self._select = None
        elif tag == "form":
            self._form = None

    def _flush_option(self) -> None:
        if self._option is None or self._select is None or self._form is None:
            return
        value, selected = self._option
        name, chosen = self._select
        self._form.options[name].append((value, self._option_text.strip()))
        if selected and not chosen:
            self._form.fields.append((name, value))
            self._select = (name, True)
        self._option = None


def form_posting_to(html: str, pattern: str) -> Form | None:
    parser = FormParser()
    parser.feed(html)
    return next((f for f in parser.forms if re.search(pattern, f.action)), None)


class Staff(HttpUser):
    """A signed-in staff member; subclasses give the role's tasks and weights."""

    abstract = True
    kind = ""
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        pool = POOLS.get(self.kind)
        if not pool:
            raise StopUser()  # more simulated people than accounts of this role
        self.account = pool.popleft()
        self.client.cookies.set("sessionid", self.account["session"])
        self.slots = deque(self.account.get("slots", []))
        self.my_day()

    # ------------------------------------------------------------------ request helpers

    def get(self, url: str, name: str, *, headers: dict[str, str] | None = None) -> Any:
        with self.client.get(
            url, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")
            return response

    def post(
        self,
        url: str,
        name: str,
        data: list[tuple[str, str]],
        *,
        expect: tuple[int, ...] = (302,),
        headers: dict[str, str] | None = None,
    ) -> Any:
        with self.client.post(
            url,
            name=name,
            data=data,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code not in expect:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")
            return response

    def csrf_header(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    # ------------------------------------------------------------------ what people do

    def my_day(self) -> None:
        self.get("/", "/ (my day)")

    def open_chart(self) -> Any:
        client_id = random.choice(self.account["clients"])
        return self.get(f"/clients/{client_id}/", "/clients/[id]/ (chart)")

    def search(self) -> None:
        """The clients page, then the live search as the person types (htmx fragments)."""
        first, last, born = random.choice(self.account["names"])
        self.get("/clients/", "/clients/ (page)")
        roll = random.random()
        if roll < 0.2:
            typed = [born]
        elif roll < 0.4:  # a typo: two letters swapped
            i = random.randrange(1, max(len(last) - 1, 2))
            typed = [last[:3], last[: i - 1] + last[i] + last[i - 1] + last[i + 1 :]]
        else:
            typed = [last[:4], f"{first} {last}"]
        for query in typed:
            self.get(f"/clients/?q={query}", "/clients/?q= (live search)", headers=HTMX)

    def schedule(self) -> None:
        self.get("/schedule/", "/schedule/")


class CaseManager(Staff):
    kind = "case_manager"
    weight = 1

    @task(30)
    def open_my_day(self) -> None:
        self.my_day()

    @task(25)
    def chart(self) -> None:
        self.open_chart()

    @task(12)
    def find_client(self) -> None:
        self.search()

    @task(10)
    def my_schedule(self) -> None:
        self.schedule()

    @task(3)
    def unsigned(self) -> None:
        self.get("/notes/unsigned/", "/notes/unsigned/")

    @task(6)
    def write_and_sign_note(self) -> None:
        """Write a note from the chart, as the app is used: start, type (autosave), sign."""
        if not self.slots:
            return
        chart = self.open_chart()
        start = form_posting_to(chart.text, r"^/notes/new/\d+/$")
        if start is None:
            return
        started = self.post(start.action, "/notes/new/[client]/ (start note)", start.fields)
        edit_url = started.headers.get("Location", "")
        if not re.fullmatch(r"/notes/\d+/edit/", edit_url):
            return
        page = self.get(edit_url, "/notes/[id]/edit/")
        form = form_posting_to(page.text, r"/edit/$")
        if form is None:
            return
        day, start_time, end_time = self.slots.popleft()
        self.fill_note(form, day, start_time, end_time)
        autosave = form.attrs.get("data-autosave", "")
        saved = self.post(
            autosave,
            "/notes/[id]/autosave/",
            form.fields,
            expect=(200,),
            headers=self.csrf_header(),
        )
        if saved.status_code == 200:
            form.set("version", str(saved.json()["version"]))
        fields = [*form.fields, ("attest", "on"), ("action", "sign")]
        if "late_reason" in form.names():
            fields.append(("late_reason", "Written up after a weekend of field visits."))
        signed = self.post(edit_url, "/notes/[id]/edit/ (sign)", fields)
        if re.fullmatch(r"/notes/\d+/", signed.headers.get("Location", "")):
            self.get(signed.headers["Location"], "/notes/[id]/")

    @staticmethod
    def fill_note(form: Form, day: str, start_time: str, end_time: str) -> None:
        form.set("service_date", day)
        form.set("start_time", start_time)
        form.set("end_time", end_time)
        form.set("contact_type", "face_to_face")
        if not form.get("place_of_service"):
            codes = [v for v, _ in form.options.get("place_of_service", []) if v]
            form.set("place_of_service", "12" if "12" in codes else codes[0])
        if not form.get("service_code"):
            choices = [(v, label) for v, label in form.options.get("service_code", []) if v]
            billable = [v for v, label in choices if "T1016" in label] or [v for v, _ in choices]
            form.set("service_code", billable[0])
        form.set("present", form.get("present") or "Client")
        for name in [k for k in form.names() if k.startswith("section_")]:
            if not form.get(name).strip():
                form.set(name, NOTE_TEXT)

    @task(4)
    def book_visit(self) -> None:
        """Book a home visit with a client of the caseload, weeks ahead; confirm a clash."""
        client_id = random.choice(self.account["clients"])
        page = self.get(f"/schedule/new/?client={client_id}", "/schedule/new/ (form)")
        form = form_posting_to(page.text, r"^$|/schedule/new/")
        if form is None:
            return
        day = random.choice(self.account["booking_days"])
        hour, quarter = random.randint(10, 15), random.choice(["00", "15", "30", "45"])
        form.set("kind", "home_visit")
        form.set("day", day)
        form.set("start_time", f"{hour:02d}:{quarter}")
        form.set("end_time", f"{hour + 1:02d}:{quarter}")
        form.set("place_type", "client_home")
        form.set("purpose", "Monthly home visit")
        with self.client.post(
            "/schedule/new/",
            name="/schedule/new/ (book)",
            data=form.fields,
            allow_redirects=False,
            catch_response=True,
        ) as booked:
            clash = booked.status_code == 400 and "confirm_conflicts" in booked.text
            if booked.status_code != 302 and not clash:
                booked.failure(f"{booked.status_code}: {form_error(booked.text)}")
        if clash:
            fields = [*form.fields, ("confirm_conflicts", "on")]
            booked = self.post("/schedule/new/", "/schedule/new/ (book, clash confirmed)", fields)
        location = booked.headers.get("Location", "")
        if re.fullmatch(r"/schedule/\d+/", location):
            self.get(location, "/schedule/[id]/")


class Supervisor(Staff):
    kind = "supervisor"
    fixed_count = sum(1 for a in ACCOUNTS["accounts"] if a["kind"] == "supervisor")

    @task(25)
    def open_my_day(self) -> None:
        self.my_day()

    @task(10)
    def team_board(self) -> None:
        self.get("/my-day/team/", "/my-day/team/")

    @task(15)
    def chart(self) -> None:
        self.open_chart()

    @task(8)
    def find_client(self) -> None:
        self.search()

    @task(5)
    def my_schedule(self) -> None:
        self.schedule()

    @task(8)
    def cosign(self) -> None:
        page = self.get("/notes/cosign/", "/notes/cosign/")
        form = form_posting_to(page.text, r"^/notes/\d+/cosign/$")
        if form is not None:
            self.post(form.action, "/notes/[id]/cosign/", form.fields)


class Billing(Staff):
    kind = "billing"
    fixed_count = sum(1 for a in ACCOUNTS["accounts"] if a["kind"] == "billing")

    @task(10)
    def home(self) -> None:
        self.get("/billing/", "/billing/")

    @task(8)
    def charges(self) -> None:
        self.get("/billing/charges/", "/billing/charges/")

    @task(4)
    def holds(self) -> None:
        self.get("/billing/holds/", "/billing/holds/")

    @task(4)
    def batches(self) -> None:
        self.get("/billing/batches/", "/billing/batches/")

    @task(2)
    def build_batch(self) -> None:
        """Look at what is ready to bill in the last year, and if anything is, build the 837P
        for those dates (the form's default covers about three months; billers widen it)."""
        start, end = self.account["billing_window"]
        ready = self.get(
            f"/billing/charges/?status=ready&from={start}&to={end}",
            "/billing/charges/?status=ready",
        )
        page = self.get("/billing/batches/new/", "/billing/batches/new/ (form)")
        form = form_posting_to(page.text, r"^$")
        if form is None or not re.search(r"/billing/charges/\d+/", ready.text):
            return
        # The payer with the most charges ready, as the form's summary lists them.
        ready_by_payer = re.findall(r"<li>([^<:]+): (\d+) ready", page.text)
        name = max(ready_by_payer, key=lambda row: int(row[1]), default=("", "0"))[0].strip()
        payer = next((v for v, label in form.options.get("payer", []) if label == name), "")
        if not payer:
            return
        form.set("payer", payer)
        form.set("service_from", start)
        form.set("service_to", end)
        built = self.post(
            "/billing/batches/new/", "/billing/batches/new/ (build 837P)", form.fields
        )
        location = built.headers.get("Location", "")
        if re.fullmatch(r"/billing/batches/\d+/", location):
            self.get(location, "/billing/batches/[id]/")


class Office(Staff):
    kind = "office"
    fixed_count = sum(1 for a in ACCOUNTS["accounts"] if a["kind"] == "office")

    @task(10)
    def find_client(self) -> None:
        self.search()

    @task(8)
    def chart(self) -> None:
        self.open_chart()

    @task(4)
    def open_my_day(self) -> None:
        self.my_day()
