"""Chart comments: colleagues talk about a client on the chart; @mentions reach My day."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.html import escape

from casework.coordination import services_collaboration as services
from casework.coordination.errors import CoordinationError
from casework.coordination.mentions import Staff, find_mentions
from casework.coordination.models import ChartComment, Mention
from casework.core.models import Role
from casework.testing.factories import UserFactory
from casework.testing.personas import Cast
from casework.worklist import selectors as worklist

pytestmark = pytest.mark.django_db


def _url(cast: Cast, what: str = "") -> str:
    return f"/clients/{cast.client.pk}/comments/{what}"


def _my_day_keys(user: Any) -> set[str]:
    return {item.key for item in worklist.my_day(user=user).items}


def test_a_mention_of_a_colleague_who_may_see_the_client_is_on_their_my_day_until_they_open_it(
    cast: Cast, http_as: Any
) -> None:
    body = "@colleague could you call María tomorrow? She asked about the ñ form 😊"
    response = http_as(cast.case_manager).post(
        _url(cast, "add/"), {"body": body, "submission_key": "c-1"}
    )
    assert response.status_code == 302
    comment = ChartComment.objects.get()
    assert comment.body == body  # unicode kept as typed
    assert list(Mention.objects.values_list("user_id", flat=True)) == [cast.colleague.pk]

    key = f"mention:{cast.client.pk}"
    assert key in _my_day_keys(cast.colleague)
    page = http_as(cast.colleague).get("/").content.decode()
    assert (
        escape(f"{cast.case_manager.full_name} mentioned you on {cast.client.display_name}") in page
    )

    opened = http_as(cast.colleague).get(_url(cast))
    assert opened.status_code == 200
    assert "new: mentions you" in opened.content.decode()
    assert Mention.objects.get().read_at is not None
    assert key not in _my_day_keys(cast.colleague)


def test_a_colleague_can_be_mentioned_by_first_and_last_name_in_any_case(cast: Cast) -> None:
    name = f"{cast.colleague.first_name.upper()} {cast.colleague.last_name.lower()}"
    services.comment_post(client=cast.client, by=cast.case_manager, body=f"Thanks @{name}.")
    assert Mention.objects.get().user == cast.colleague


def test_a_mention_of_someone_outside_the_clients_scope_is_refused_naming_them_and_nothing_is_posted(
    cast: Cast, http_as: Any
) -> None:
    body = "@south please take a look at this"
    response = http_as(cast.case_manager).post(_url(cast, "add/"), {"body": body})
    assert response.status_code == 400
    page = response.content.decode()
    assert cast.other_team_cm.full_name in page and "does not have access" in page
    assert "@south please take a look at this</textarea>" in page  # what was typed is kept
    assert not ChartComment.objects.exists() and not Mention.objects.exists()


def test_an_unknown_name_is_refused_and_listed(cast: Cast) -> None:
    with pytest.raises(services.MentionError) as refused:
        services.comment_post(
            client=cast.client, by=cast.case_manager, body="@nobody and @colleague, see this"
        )
    assert [p.typed for p in refused.value.problems] == ["@nobody"]
    assert not ChartComment.objects.exists()


def test_a_deactivated_colleague_cannot_be_mentioned(cast: Cast) -> None:
    cast.colleague.is_active = False
    cast.colleague.save()
    with pytest.raises(services.MentionError, match="no longer active"):
        services.comment_post(client=cast.client, by=cast.case_manager, body="@colleague hi")


def test_someone_who_does_not_read_narratives_cannot_be_mentioned(cast: Cast) -> None:
    with pytest.raises(services.MentionError, match="does not have access"):
        services.comment_post(client=cast.client, by=cast.case_manager, body="@billing fyi")


def test_an_email_address_in_the_text_and_ones_own_name_tell_nobody(cast: Cast) -> None:
    services.comment_post(
        client=cast.client,
        by=cast.case_manager,
        body="Her sister wrote to ana@example.org; note to self @cm.",
    )
    assert ChartComment.objects.count() == 1 and not Mention.objects.exists()


def test_a_comment_is_at_most_2000_characters_and_line_breaks_count_once(cast: Cast) -> None:
    at_limit = "é" * 1998 + "\r\nñ"
    comment = services.comment_post(client=cast.client, by=cast.case_manager, body=at_limit)
    assert comment.body == "é" * 1998 + "\nñ"
    with pytest.raises(CoordinationError, match="under 2,000"):
        services.comment_post(client=cast.client, by=cast.case_manager, body="x" * 2001)
    with pytest.raises(CoordinationError, match="Write the comment"):
        services.comment_post(client=cast.client, by=cast.case_manager, body="   \n ")


def test_a_too_long_comment_is_refused_on_the_page_and_kept(cast: Cast, http_as: Any) -> None:
    response = http_as(cast.case_manager).post(_url(cast, "add/"), {"body": "long " * 500})
    assert response.status_code == 400
    assert "under 2,000" in response.content.decode()
    assert "long long long" in response.content.decode()
    assert not ChartComment.objects.exists()


def test_a_comment_sent_twice_is_posted_once(cast: Cast, http_as: Any) -> None:
    http = http_as(cast.case_manager)
    data = {"body": "@colleague see the new lease", "submission_key": "twice"}
    assert http.post(_url(cast, "add/"), data).status_code == 302
    assert http.post(_url(cast, "add/"), data).status_code == 302
    assert ChartComment.objects.count() == 1 and Mention.objects.count() == 1


def test_the_comment_text_stays_out_of_the_audit_log(cast: Cast) -> None:
    from casework.core.models import AuditEvent

    services.comment_post(client=cast.client, by=cast.case_manager, body="Secret detail xyzzy")
    assert not AuditEvent.objects.filter(detail__contains="xyzzy").exists()


@pytest.mark.parametrize("who", ["outsider_cm", "other_team_cm", "outsider_admin"])
def test_outsiders_get_404_on_a_clients_comments(cast: Cast, http_as: Any, who: str) -> None:
    services.comment_post(client=cast.client, by=cast.case_manager, body="Private")
    http = http_as(getattr(cast, who))
    assert http.get(_url(cast)).status_code == 404
    assert http.post(_url(cast, "add/"), {"body": "hello"}).status_code == 404
    assert ChartComment.objects.count() == 1


def test_billing_who_do_not_read_narratives_cannot_open_comments(cast: Cast, http_as: Any) -> None:
    assert http_as(cast.billing).get(_url(cast)).status_code == 403


def test_a_read_only_reader_sees_comments_but_cannot_post(cast: Cast, http_as: Any) -> None:
    cast.agency.billing_sees_narratives = True
    cast.agency.save()
    http = http_as(cast.billing)
    assert http.get(_url(cast)).status_code == 200
    assert http.post(_url(cast, "add/"), {"body": "hi"}).status_code == 400
    assert not ChartComment.objects.exists()


def test_the_chart_card_shows_the_latest_comments_and_unread_mentions(cast: Cast) -> None:
    from casework.coordination.selectors_collaboration import chart_comments

    for n in range(7):
        services.comment_post(client=cast.client, by=cast.case_manager, body=f"Note {n} @colleague")
    card = chart_comments(user=cast.colleague, client=cast.client)
    assert card is not None
    assert card.comments[0].body == "Note 6 @colleague"
    assert len(card.comments) == 5 and card.more and card.unread_mentions == 7
    assert chart_comments(user=cast.billing, client=cast.client) is None


def test_names_resolve_longest_first_and_ambiguous_names_are_reported() -> None:
    staff = [
        Staff(1, "Ana", "Lee", "alee@x.org"),
        Staff(2, "Ana", "Lee Park", "apark@x.org"),
        Staff(3, "Sam", "Roe", "sroe@x.org"),
        Staff(4, "Sam", "Roe", "sam.roe@x.org"),
    ]
    found = find_mentions("@Ana Lee Park, @alee and @sam.roe. Also @Sam Roe, @ 5pm", staff)
    assert found.staff_ids == [2, 1, 4]
    assert [u.typed for u in found.unresolved] == ["@Sam Roe"]


def test_only_staff_of_the_agency_resolve(cast: Cast) -> None:
    UserFactory(agency=cast.outsider_agency, email="zed@other.example", roles=[Role.CASE_MANAGER])
    with pytest.raises(services.MentionError, match="nobody on your agency"):
        services.comment_post(client=cast.client, by=cast.case_manager, body="@zed hello")


def test_the_chart_include_renders_the_card_with_a_form_that_posts_here(cast: Cast) -> None:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from casework.coordination.selectors_collaboration import chart_comments

    services.comment_post(client=cast.client, by=cast.colleague, body="Seen at the clinic @cm")
    request = RequestFactory().get(f"/clients/{cast.client.pk}/")
    request.user = cast.case_manager
    card = chart_comments(user=cast.case_manager, client=cast.client)
    html = render_to_string("coordination/_comments.html", {"card": card}, request=request)
    assert "Seen at the clinic @cm" in html and "1 mention of you" in html
    assert f'action="/clients/{cast.client.pk}/comments/add/"' in html
    assert f'name="next" value="/clients/{cast.client.pk}/"' in html
