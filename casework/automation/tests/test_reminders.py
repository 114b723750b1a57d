"""Client appointment reminders: only to those who asked, sent once, saying nothing clinical."""

from __future__ import annotations

import datetime
import html
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection

from casework.automation import reminders, services
from casework.automation.messaging import MessageError, to_e164
from casework.automation.models import ClientReminder
from casework.automation.tests.helpers import texts
from casework.clients.models import Client, Diagnosis, Phone
from casework.core.models import Agency
from casework.schedule.models import Appointment
from casework.testing.schedule import appointment_for, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def noon(cast):
    """Noon, agency time, on a fixed day: inside the hours reminders are sent."""
    Agency.objects.filter(pk=cast.agency.pk).update(phone="(206) 555-0100")
    cast.agency.refresh_from_db()
    day = datetime.date(2026, 12, 8)
    with time_machine.travel(local(cast.agency, day, "12:00"), tick=False):
        yield local(cast.agency, day, "12:00")


def visit(cast, now: datetime.datetime, hours: float = 20, **fields) -> Appointment:
    return appointment_for(
        cast,
        start=now + datetime.timedelta(hours=hours),
        purpose="Talk about the depression meds",
        **fields,
    )


def test_a_client_who_asked_gets_one_text_per_appointment(cast, noon, outbox):
    texts(cast)
    appointment = visit(cast, noon)
    assert reminders.send_client_reminders() == 1
    assert reminders.send_client_reminders() == 0  # the hourly job again, or retried
    (sent,) = outbox
    assert sent.to == "+12065550142"
    row = ClientReminder.objects.get()
    assert (row.appointment, row.client, row.channel, row.status) == (
        appointment,
        cast.client,
        "sms",
        "sent",
    )
    assert row.provider_id == sent.message_id and row.finished_at is not None


def test_the_text_names_the_agency_the_time_and_the_phone_only(cast, noon, outbox):
    Diagnosis.objects.create(
        agency=cast.agency, client=cast.client, code="F32.1", description="Major depression"
    )
    texts(cast)
    visit(cast, noon, hours=21.5)  # 09:30 tomorrow
    reminders.send_client_reminders()
    (sent,) = outbox
    assert sent.body == (
        "Home Agency: a reminder of your appointment on Wednesday 9 December at 9:30 AM. "
        "To change it, reply or call (206) 555-0100."
    )
    for secret in (
        "depression",
        "meds",
        "Elm",
        cast.case_manager.last_name,
        cast.client.legal_last_name,
        "F32",
    ):
        assert secret.lower() not in sent.body.lower()


def test_nobody_is_reminded_by_default(cast, noon, outbox):
    visit(cast, noon)
    assert reminders.send_client_reminders() == 0
    services.reminder_preference_save(client=cast.client, by=cast.case_manager, channel="none")
    assert reminders.send_client_reminders() == 0
    assert outbox == []


def test_only_scheduled_appointments_in_the_next_day_are_reminded(cast, noon, outbox):
    texts(cast)
    visit(cast, noon, hours=30)  # too far
    visit(cast, noon, hours=-1, confirm_conflicts=True)  # started
    cancelled = visit(cast, noon, hours=5)
    Appointment.objects.filter(pk=cancelled.pk).update(status="cancelled", cancelled_by="client")
    assert reminders.send_client_reminders() == 0


def test_a_moved_appointment_is_reminded_again_for_its_new_time(cast, noon, outbox):
    texts(cast)
    appointment = visit(cast, noon, hours=20)
    reminders.send_client_reminders()
    Appointment.objects.filter(pk=appointment.pk).update(
        start_at=noon + datetime.timedelta(hours=22), end_at=noon + datetime.timedelta(hours=23)
    )
    reminders.send_client_reminders()
    assert len(outbox) == 2 and "10:00 AM" in outbox[1].body


def test_nothing_is_sent_at_night(cast, outbox):
    texts(cast)
    night = local(cast.agency, datetime.date(2026, 12, 8), "23:00")
    with time_machine.travel(night, tick=False):
        visit(cast, night, hours=10)
        assert reminders.send_client_reminders() == 0
    with time_machine.travel(night + datetime.timedelta(hours=9), tick=False):
        assert reminders.send_client_reminders() == 1


def test_a_discharged_client_is_not_reminded(cast, noon, outbox):
    texts(cast)
    visit(cast, noon)
    Client.objects.filter(pk=cast.client.pk).update(status="discharged")
    assert reminders.send_client_reminders() == 0


def test_an_email_goes_through_djangos_mail(cast, noon, settings):
    settings.CASEWORK_EMAIL_REMINDER_BACKEND = "casework.automation.messaging.EmailBackend"
    services.reminder_preference_save(
        client=cast.client, by=cast.case_manager, channel="email", email="maria@example.org"
    )
    visit(cast, noon)
    assert reminders.send_client_reminders() == 1
    (email,) = mail.outbox
    assert email.to == ["maria@example.org"]
    assert email.subject == "Appointment reminder"
    assert ClientReminder.objects.get().provider_id == email.extra_headers["Message-ID"]


class Refusing:
    def send(self, to: str, body: str) -> str:
        raise MessageError("Twilio refused the message (HTTP 400, Twilio error 21211).")


class Crashing:
    def send(self, to: str, body: str) -> str:
        raise ValueError(f"bad number {to}")


@pytest.mark.parametrize(
    ("backend", "error"),
    [
        (Refusing(), "Twilio refused the message (HTTP 400, Twilio error 21211)."),
        (Crashing(), "The message could not be sent (ValueError)."),
    ],
)
def test_a_failure_is_recorded_without_the_number_and_not_retried(cast, noon, backend, error):
    texts(cast)
    visit(cast, noon)
    (due,) = reminders.reminders_due(now=noon)
    reminder = reminders.send_one(due, backend)
    assert reminder is not None
    row = ClientReminder.objects.get()
    assert (row.status, row.error) == ("failed", error)
    assert "555" not in row.error
    assert reminders.send_client_reminders() == 0


def test_two_runs_racing_for_one_reminder_send_it_once(cast, noon, outbox):
    texts(cast)
    visit(cast, noon)
    (due,) = reminders.reminders_due(now=noon)
    (twin,) = reminders.reminders_due(now=noon)  # both runs saw it before either claimed it
    assert reminders.send_one(due, reminders.backend_for("sms")) is not None
    assert reminders.send_one(twin, reminders.backend_for("sms")) is None
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two connections at once need PostgreSQL"
)
def test_two_workers_at_once_send_one_reminder(cast, outbox):
    from django.db import connections

    Agency.objects.filter(pk=cast.agency.pk).update(phone="")
    now = local(cast.agency, datetime.date(2026, 12, 8), "12:00")
    with time_machine.travel(now, tick=False):
        texts(cast)
        visit(cast, now)
        barrier = threading.Barrier(2)
        counts: list[int] = []

        def worker() -> None:
            try:
                barrier.wait()
                counts.append(reminders.send_client_reminders())
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(counts) == [0, 1]
    assert len(outbox) == 1
    assert "reply to this message" in outbox[0].body


@pytest.mark.parametrize(
    ("channel", "fields", "field"),
    [
        ("sms", {}, "phone"),
        ("email", {}, "email"),
        ("email", {"email": "maria at example"}, "email"),
        ("pigeon", {}, "channel"),
    ],
)
def test_a_preference_needs_a_usable_address(cast, channel, fields, field):
    with pytest.raises(services.AutomationError) as error:
        services.reminder_preference_save(
            client=cast.client, by=cast.case_manager, channel=channel, **fields
        )
    assert error.value.field == field


def test_the_console_backend_prints_and_does_not_log(cast, capsys, caplog):
    from casework.automation.messaging import ConsoleBackend

    message_id = ConsoleBackend().send("+12065550142", "Hello")
    assert message_id.startswith("console-")
    assert "Hello" in capsys.readouterr().out
    assert "Hello" not in caplog.text


# --- the number is read again when the reminder is sent ---------------------------------------


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"safe_to_text": False}, "Not sent: the number to text is not marked safe to text."),
        ("other client", "Not sent: the number to text is not one of the client's."),
        (
            "removed",
            "Not sent: there is no number to text (it was removed from the contact details).",
        ),
        (
            {"number": "(206) 555-0142 ext 3"},
            "Not sent: the number to text is not a plain phone number.",
        ),
    ],
)
def test_a_number_no_longer_safe_to_text_gets_nothing_and_the_row_says_why(
    cast, noon, outbox, change, why
):
    preference = texts(cast)
    visit(cast, noon)
    mobile = Phone.objects.filter(pk=preference.phone_id)
    if change == "other client":
        mobile.update(client=cast.other_client)
    elif change == "removed":
        mobile.delete()
    else:
        mobile.update(**change)
    assert reminders.send_client_reminders() == 0
    assert reminders.send_client_reminders() == 0
    assert outbox == []
    row = ClientReminder.objects.get()
    assert (row.status, row.error) == ("not_sent", why)
    assert "555" not in row.error


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(206) 555-0142", "+12065550142"),
        ("1-206-555-0142", "+12065550142"),
        ("206.555.0142", "+12065550142"),
        ("+1 206 555 0142", "+12065550142"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+49 30 1234567", "+49301234567"),
    ],
)
def test_numbers_become_e164(typed, e164):
    assert to_e164(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "(206) 555-0142 x12",
        "206-555-0142 ext 3",
        "206 555 0142;3",
        "".join(chr(0xFF10 + int(d)) for d in "2065550142"),  # full-width digits
        "".join(chr(0x0660 + int(d)) for d in "2065550142"),  # Arabic-Indic digits
        "206555014\u0662",  # one of them at the end
        "555-0142",  # seven digits: no area code
        "(106) 555-0142",  # no NANP area code starts with 1
        "(206) 155-0142",  # nor an exchange
        "44 20 7946 0958",  # abroad without the +
        "+44 1234",  # too short
        "+1234567890123456",  # too long
        "+1 206 555 014",  # +1 but not ten digits
        "206+555+0142",
        "",
    ],
)
def test_a_number_that_is_not_plainly_textable_is_refused(typed):
    with pytest.raises(MessageError):
        to_e164(typed)


# --- a change while the pass runs -------------------------------------------------------------


@pytest.mark.parametrize(
    "change", ["cancelled", "moved", "client discharged", "reminders off", "switched to email"]
)
def test_a_change_made_while_the_pass_runs_is_seen_before_sending(cast, noon, outbox, change):
    texts(cast)
    appointment = visit(cast, noon)
    (due,) = reminders.reminders_due(now=noon)  # the pass read it; then, meanwhile:
    if change == "cancelled":
        Appointment.objects.filter(pk=appointment.pk).update(
            status="cancelled", cancelled_by="client"
        )
    elif change == "moved":
        Appointment.objects.filter(pk=appointment.pk).update(
            start_at=appointment.start_at + datetime.timedelta(hours=1),
            end_at=appointment.end_at + datetime.timedelta(hours=1),
        )
    elif change == "client discharged":
        Client.objects.filter(pk=cast.client.pk).update(status="discharged")
    elif change == "reminders off":
        services.reminder_preference_save(client=cast.client, by=cast.case_manager, channel="none")
    else:
        services.reminder_preference_save(
            client=cast.client, by=cast.case_manager, channel="email", email="m@example.org"
        )
    assert reminders.send_one(due, reminders.backend_for("sms")) is None
    assert outbox == [] and not ClientReminder.objects.exists()


# --- a worker killed between the claim and the send -------------------------------------------


def test_a_reminder_left_sending_becomes_unknown_and_is_not_sent_again(cast, noon, outbox, http_as):
    texts(cast)
    visit(cast, noon)
    (due,) = reminders.reminders_due(now=noon)
    assert reminders.claim(due) is not None  # the worker is killed here, before sending
    with time_machine.travel(noon + datetime.timedelta(minutes=10), tick=False):
        assert reminders.send_client_reminders() == 0
        assert ClientReminder.objects.get().status == "sending"  # it may still be going
    with time_machine.travel(noon + datetime.timedelta(minutes=16), tick=False):
        assert reminders.send_client_reminders() == 0
        row = ClientReminder.objects.get()
        assert row.status == "unknown"
        assert reminders.send_client_reminders() == 0
    assert outbox == []
    check = "may not have been sent — check with the client"
    page = http_as(cast.case_manager).get(f"/automation/clients/{cast.client.pk}/")
    assert check in page.content.decode()
    log = html.unescape(http_as(cast.supervisor).get("/automation/log/").content.decode())
    assert check in log and cast.client.display_name in log
    assert check not in http_as(cast.outsider_admin).get("/automation/log/").content.decode()
