"""Reporting a pin, a comment, a profile or a message (/messages/report/<kind>/<id>/): each kind
works with and without JavaScript, what the reporter can't see is a 404, bad input and
repeats are answered clearly, the rate limit holds, and the Report links appear where they
should (and not on your own things)."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.models import Report
from messaging.reports.services import report_create
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    CommentFactory,
    PinFactory,
    PinImageFactory,
    ReportFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

THANKS = "Thanks, we&#x27;ll review it."


@pytest.fixture
def image(db):
    return PinImageFactory()


@pytest.fixture
def world(image):
    """Rita reports; Owen owns a public pin with his comment on it, and talks with Rita."""
    rita = UserFactory(username="rita", display_name="Rita Reporter")
    owen = UserFactory(username="owen", display_name="Owen Owner")
    pin = PinFactory(owner=owen, board=BoardFactory(owner=owen), image=image, title="Loud pin")
    comment = CommentFactory(pin=pin, author=owen, text="A rude comment")
    conversation = services.conversation_send(
        sender=owen, recipients=[rita], text="A nasty message", idempotency_key=None
    ).conversation
    message = conversation.messages.get()
    return SimpleNamespace(
        rita=rita, owen=owen, pin=pin, comment=comment, message=message, conversation=conversation
    )


def report_url(kind: str, obj) -> str:
    key = obj.username if kind == "profile" else obj.pk
    return reverse(f"report_{kind}", args=[key])


def target(world, kind: str):
    return {"pin": world.pin, "comment": world.comment, "profile": world.owen}.get(
        kind, world.message
    )


KINDS = ["pin", "comment", "profile", "message"]


# --- Each kind works ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_report_page_offers_labelled_reasons_and_details(client_for, world, kind):
    response = client_for(world.rita).get(report_url(kind, target(world, kind)))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'method="post" action="{report_url(kind, target(world, kind))}"' in page
    for value, label in Report.Reason.choices:
        assert f'value="{value}"' in page
        assert label in page
    assert '<label for="report-details">' in page
    assert "Submit report" in page


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_can_be_reported_without_javascript(client_for, world, kind):
    thing = target(world, kind)
    client = client_for(world.rita)
    response = client.post(
        report_url(kind, thing), {"reason": "harassment", "details": "  Keeps doing this.  "}
    )
    report = Report.objects.get()
    assert getattr(report, kind) == thing
    assert (report.reporter, report.reason, report.details) == (
        world.rita,
        "harassment",
        "Keeps doing this.",
    )
    assert report.status == Report.Status.OPEN
    assert response.status_code == 302
    # Back to the thing, where the toast says thanks.
    page = client.get(response.url).content.decode()
    assert THANKS in page


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_can_be_reported_from_the_dialog(client_for, world, kind, htmx):
    thing = target(world, kind)
    client = client_for(world.rita)
    dialog = client.get(report_url(kind, thing), **htmx)
    assert dialog.status_code == 200
    assert b"<dialog" in dialog.content
    assert b"<html" not in dialog.content
    response = client.post(report_url(kind, thing), {"reason": "spam"}, **htmx)
    assert response.status_code == 200
    assert THANKS in response.content.decode()
    assert b"<html" not in response.content
    assert getattr(Report.objects.get(), kind) == thing


def test_report_of_a_secret_pin_the_reporter_collaborates_on_works(client_for, world, image):
    board = BoardFactory(owner=world.owen, is_secret=True)
    BoardMemberFactory(board=board, user=world.rita)
    pin = PinFactory(board=board, owner=world.owen, image=image)
    response = client_for(world.rita).post(report_url("pin", pin), {"reason": "nudity"})
    assert response.status_code == 302
    assert Report.objects.get().pin == pin


# --- What the reporter can't see is a 404, and nothing is stored ------------------------------


@pytest.fixture
def hidden_things(world, image):
    """Things Rita may not see: a secret pin and its comment, a conversation she is not in (and
    one she left), a deactivated person, and a deleted message."""
    secret = PinFactory(board=BoardFactory(owner=world.owen, is_secret=True), image=image)
    secret_comment = CommentFactory(pin=secret, author=world.owen)
    stranger = UserFactory(username="stranger")
    others = services.conversation_send(
        sender=world.owen, recipients=[stranger], text="Private", idempotency_key=None
    )
    gone = UserFactory(username="gone", is_active=False)
    deleted = services.message_send(
        sender=world.owen, conversation=world.conversation, text="oops", idempotency_key=None
    )
    services.message_delete(message=deleted, user=world.owen)
    left_message = services.conversation_send(
        sender=world.owen, recipients=[world.rita, stranger], text="Group", idempotency_key=None
    )
    services.conversation_leave(conversation=left_message.conversation, user=world.rita)
    return [
        ("pin", secret),
        ("comment", secret_comment),
        ("message", others),
        ("message", deleted),
        ("message", left_message),
        ("profile", gone),
    ]


def test_what_the_reporter_cannot_see_is_a_404_and_nothing_is_stored(
    client_for, world, hidden_things, htmx
):
    client = client_for(world.rita)
    for kind, thing in hidden_things:
        url = report_url(kind, thing)
        assert client.get(url).status_code == 404, (kind, thing)
        assert client.get(url, **htmx).status_code == 404, (kind, thing)
        assert client.post(url, {"reason": "spam"}).status_code == 404, (kind, thing)
    assert not Report.objects.exists()


def test_missing_ids_are_a_404(client_for, world):
    client = client_for(world.rita)
    for kind in ("pin", "comment", "message"):
        assert (
            client.post(reverse(f"report_{kind}", args=[999999]), {"reason": "spam"}).status_code
            == 404
        )
    assert (
        client.post(
            report_url("profile", SimpleNamespace(username="nobody")), {"reason": "spam"}
        ).status_code
        == 404
    )
    assert not Report.objects.exists()


def test_signed_out_people_are_sent_to_log_in_and_nothing_is_stored(client, world):
    response = client.post(report_url("pin", world.pin), {"reason": "spam"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Report.objects.exists()


# --- Your own things ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("pin", "This is your own pin, so you can&#x27;t report it."),
        ("comment", "This is your own comment, so you can&#x27;t report it."),
        ("profile", "You can&#x27;t report yourself."),
        ("message", "This is your own message, so you can&#x27;t report it."),
    ],
)
def test_reporting_your_own_thing_is_refused_clearly(client_for, world, kind, said):
    client = client_for(world.owen)
    url = report_url(kind, target(world, kind))
    page = client.get(url)
    assert said in page.content.decode()
    assert b"Submit report" not in page.content
    response = client.post(url, {"reason": "spam"})
    assert response.status_code == 400
    assert said in response.content.decode()
    assert not Report.objects.exists()


# --- Bad input ---------------------------------------------------------------------------------


def test_no_reason_is_a_clear_error_and_keeps_the_details(client_for, world):
    response = client_for(world.rita).post(
        report_url("pin", world.pin), {"details": "It is a scam site"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a reason." in page
    assert "It is a scam site</textarea>" in page
    assert not Report.objects.exists()


def test_an_unknown_reason_is_refused(client_for, world):
    response = client_for(world.rita).post(report_url("pin", world.pin), {"reason": "boring"})
    assert response.status_code == 400
    assert "Choose one of the reasons listed." in response.content.decode()
    assert not Report.objects.exists()


def test_details_that_are_too_long_are_refused_and_kept(client_for, world):
    details = "x" * 1001
    response = client_for(world.rita).post(
        report_url("comment", world.comment), {"reason": "hate", "details": details}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Details can be up to 1,000 characters; yours have 1,001." in page
    assert f"{details}</textarea>" in page
    assert 'value="hate" id="id_reason_3" required checked>' in page  # the choice is kept
    assert not Report.objects.exists()


def test_line_breaks_count_once_in_details(client_for, world):
    details = "a\r\n" * 499 + "bc"  # 1,499 characters sent, 1,000 as the textarea counts them
    response = client_for(world.rita).post(
        report_url("pin", world.pin), {"reason": "other", "details": details}
    )
    assert response.status_code == 302
    assert len(Report.objects.get().details) == 1000


def test_bad_input_in_the_dialog_swaps_the_form_with_the_error(client_for, world, htmx):
    response = client_for(world.rita).post(
        report_url("message", world.message), {"details": "keep me"}, **htmx
    )
    assert response.status_code == 200  # htmx only swaps 2xx answers
    page = response.content.decode()
    assert "Choose a reason." in page
    assert "keep me</textarea>" in page
    assert not Report.objects.exists()


# --- Repeats -------------------------------------------------------------------------------------


def test_a_second_report_while_the_first_is_open_is_not_stored(client_for, world):
    client = client_for(world.rita)
    url = report_url("pin", world.pin)
    client.post(url, {"reason": "spam"})
    response = client.post(url, {"reason": "hate", "details": "again"})
    assert response.status_code == 200
    assert (
        "You&#x27;ve already reported this pin. It&#x27;s under review."
        in response.content.decode()
    )
    assert Report.objects.count() == 1
    # The page itself says so, instead of offering the form again.
    page = client.get(url).content.decode()
    assert "already reported this pin" in page
    assert "Submit report" not in page


def test_once_a_report_is_resolved_the_same_thing_can_be_reported_again(client_for, world):
    ReportFactory(
        reporter=world.rita, pin=world.pin, status=Report.Status.DISMISSED,
        resolved_at=timezone.now(),
    )  # fmt: skip
    response = client_for(world.rita).post(report_url("pin", world.pin), {"reason": "spam"})
    assert response.status_code == 302
    assert Report.objects.count() == 2


def test_someone_else_reporting_the_same_thing_is_a_separate_report(client_for, world):
    ReportFactory(pin=world.pin)
    client_for(world.rita).post(report_url("pin", world.pin), {"reason": "spam"})
    assert Report.objects.filter(pin=world.pin).count() == 2


# --- Rate limit ----------------------------------------------------------------------------------


@pytest.fixture
def one_report_per_hour(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (1, 3600)}


def test_over_the_limit_is_a_429_with_retry_after_and_nothing_stored(
    client_for, world, one_report_per_hour
):
    client = client_for(world.rita)
    assert client.post(report_url("pin", world.pin), {"reason": "spam"}).status_code == 302
    response = client.post(
        report_url("comment", world.comment), {"reason": "hate", "details": "typed text"}
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    page = response.content.decode()
    assert "You&#x27;re doing that too often. Try again in" in page
    assert "typed text</textarea>" in page
    assert list(Report.objects.values_list("pin", "comment")) == [(world.pin.pk, None)]


def test_over_the_limit_in_the_dialog_is_a_429_toast(client_for, world, one_report_per_hour, htmx):
    client = client_for(world.rita)
    client.post(report_url("pin", world.pin), {"reason": "spam"}, **htmx)
    response = client.post(report_url("profile", world.owen), {"reason": "spam"}, **htmx)
    assert response.status_code == 429
    assert "Retry-After" in response
    assert "too often" in response["HX-Trigger"]
    assert Report.objects.count() == 1


def test_bad_input_and_repeats_do_not_use_up_the_limit(client_for, world, one_report_per_hour):
    client = client_for(world.rita)
    client.post(report_url("pin", world.pin), {"details": "no reason"})
    assert client.post(report_url("pin", world.pin), {"reason": "spam"}).status_code == 302
    # Already reported: told so, not a 429.
    assert client.post(report_url("pin", world.pin), {"reason": "spam"}).status_code == 200


# --- The service on its own -----------------------------------------------------------------------


def test_service_refuses_a_report_about_nothing_or_two_things(world):
    with pytest.raises(ValueError, match="exactly one"):
        report_create(reporter=world.rita, reason="spam", details="")
    with pytest.raises(ValueError, match="exactly one"):
        report_create(
            reporter=world.rita, reason="spam", details="", pin=world.pin, profile=world.owen
        )
    assert not Report.objects.exists()


def test_service_refuses_own_things_and_repeats(world):
    with pytest.raises(ValidationError) as own:
        report_create(reporter=world.owen, reason="spam", details="", pin=world.pin)
    assert own.value.code == "own"
    report_create(reporter=world.rita, reason="spam", details="", message=world.message)
    with pytest.raises(ValidationError) as repeat:
        report_create(reporter=world.rita, reason="spam", details="", message=world.message)
    assert repeat.value.code == "duplicate"
    assert Report.objects.count() == 1


# --- Report links --------------------------------------------------------------------------------


def test_pin_page_offers_report_for_the_pin_and_others_comments_only(client_for, world):
    mine = CommentFactory(pin=world.pin, author=world.rita, text="Mine")
    page = client_for(world.rita).get(world.pin.get_absolute_url()).content.decode()
    assert f'href="{report_url("pin", world.pin)}"' in page
    assert f'href="{report_url("comment", world.comment)}"' in page
    assert report_url("comment", mine) not in page
    owner_page = client_for(world.owen).get(world.pin.get_absolute_url()).content.decode()
    assert report_url("pin", world.pin) not in owner_page
    assert report_url("comment", world.comment) not in owner_page
    assert f'href="{report_url("comment", mine)}"' in owner_page


def test_profile_offers_report_except_on_your_own(client_for, world):
    url = reverse("profile", args=[world.owen.username])
    assert (
        f'href="{report_url("profile", world.owen)}"'
        in client_for(world.rita).get(url).content.decode()
    )
    assert report_url("profile", world.owen) not in client_for(world.owen).get(url).content.decode()


def test_conversation_offers_report_on_others_messages_only(client_for, world):
    mine = services.message_send(
        sender=world.rita, conversation=world.conversation, text="Stop it", idempotency_key=None
    )
    url = reverse("conversation", args=[world.conversation.pk])
    page = client_for(world.rita).get(url).content.decode()
    assert f'href="{report_url("message", world.message)}"' in page
    assert report_url("message", mine) not in page


# --- Query counts --------------------------------------------------------------------------------


def test_report_page_costs_the_same_queries_with_more_data(
    client_for, world, image, django_assert_num_queries
):
    client = client_for(world.rita)
    url = report_url("pin", world.pin)
    client.get(url)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for _ in range(5):
        ReportFactory(pin=world.pin)
        CommentFactory(pin=world.pin)
        ReportFactory(reporter=world.rita, pin=PinFactory(image=image))
    with django_assert_num_queries(len(small)):
        assert client.get(url).status_code == 200
