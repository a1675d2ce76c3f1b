"""The report queue in the admin: what staff see (open first, the reported thing, its author, a
reported message's text), the three actions and what they change, and a fixed query count."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.models import Message, Report
from pinboard.models import Comment, Pin
from tests.factories import (
    BoardFactory,
    CommentFactory,
    PinFactory,
    PinImageFactory,
    ReportFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:messaging_report_changelist")


@pytest.fixture
def image(db):
    return PinImageFactory()


@pytest.fixture
def staff(db):
    return UserFactory(username="mod", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client_for, staff):
    return client_for(staff)


@pytest.fixture
def world(image):
    rita = UserFactory(username="rita", display_name="Rita Reporter")
    owen = UserFactory(username="owen", display_name="Owen Owner")
    pin = PinFactory(owner=owen, board=BoardFactory(owner=owen), image=image, title="Loud pin")
    comment = CommentFactory(pin=pin, author=owen, text="A rude comment")
    message = services.conversation_send(
        sender=owen, recipients=[rita], text="A nasty private message", idempotency_key=None
    )
    return SimpleNamespace(rita=rita, owen=owen, pin=pin, comment=comment, message=message)


def make_reports(world, *, reporter=None):
    reporter = reporter or UserFactory()
    return SimpleNamespace(
        pin=ReportFactory(reporter=reporter, pin=world.pin, reason="spam"),
        comment=ReportFactory(reporter=reporter, comment=world.comment, reason="harassment"),
        profile=ReportFactory(reporter=reporter, profile=world.owen, reason="hate"),
        message=ReportFactory(reporter=reporter, message=world.message, reason="violence"),
    )


def act(client, action: str, *reports):
    return client.post(
        QUEUE,
        {"action": action, "_selected_action": [report.pk for report in reports]},
        follow=True,
    )


# --- The queue ---------------------------------------------------------------------------------


def test_queue_is_staff_only(client_for, world):
    make_reports(world)
    response = client_for(world.rita).get(QUEUE)
    assert response.status_code == 302
    assert "login" in response.url


def test_queue_lists_open_reports_with_what_who_and_why(staff_client, world):
    reports = make_reports(world, reporter=world.rita)
    response = staff_client.get(QUEUE)
    assert len(response.context["cl"].result_list) == 4
    page = response.content.decode()
    for label in ["Spam or misleading", "Harassment or bullying", "Hateful speech or symbols"]:
        assert label in page
    assert "Pin: Loud pin" in page
    assert f'href="{world.pin.get_absolute_url()}"' in page
    assert f'href="{reverse("admin:pinboard_pin_change", args=[world.pin.pk])}"' in page
    assert world.pin.image.grid.url in page  # the thumbnail
    assert "Comment: A rude comment" in page
    assert "Profile: @owen" in page
    assert f"Message {world.message.pk} in conversation" in page
    assert "@rita" in page  # the reporter
    assert "@owen" in page  # the author
    # The list never shows a message's text: only its report's page does.
    assert "A nasty private message" not in page
    assert reports.pin.get_status_display() in page


def test_queue_opens_on_open_reports_and_all_lists_open_ones_first(staff_client, world, staff):
    old_open = ReportFactory(pin=world.pin, details="old open one")
    ReportFactory(
        pin=world.pin, details="dismissed one", status=Report.Status.DISMISSED,
        resolved_at=timezone.now(), resolved_by=staff,
    )  # fmt: skip
    new_open = ReportFactory(profile=world.owen, details="new open one")
    default = staff_client.get(QUEUE)
    shown = list(default.context["cl"].result_list)
    assert shown == [new_open, old_open]
    everything = staff_client.get(QUEUE, {"status": "all"})
    statuses = [report.status for report in everything.context["cl"].result_list]
    assert statuses == ["open", "open", "dismissed"]
    dismissed = staff_client.get(QUEUE, {"status": "dismissed"})
    assert [r.details for r in dismissed.context["cl"].result_list] == ["dismissed one"]


def test_queue_filters_by_reason(staff_client, world):
    reports = make_reports(world)
    response = staff_client.get(QUEUE, {"reason__exact": "violence"})
    assert list(response.context["cl"].result_list) == [reports.message]


def test_report_page_shows_the_reported_message_text(staff_client, world):
    reports = make_reports(world)
    url = reverse("admin:messaging_report_change", args=[reports.message.pk])
    page = staff_client.get(url).content.decode()
    assert "A nasty private message" in page
    assert "Violence or self-harm" in page


@pytest.mark.parametrize(
    ("kind", "shown"),
    [("pin", "Loud pin"), ("comment", "A rude comment"), ("profile", "Owen Owner")],
)
def test_report_page_shows_the_reported_item(staff_client, world, kind, shown):
    report = getattr(make_reports(world), kind)
    page = staff_client.get(reverse("admin:messaging_report_change", args=[report.pk]))
    assert page.status_code == 200
    assert shown in page.content.decode()


def test_report_about_a_deleted_thing_still_renders(staff_client, world):
    reports = make_reports(world)
    world.pin.delete()
    response = staff_client.get(reverse("admin:messaging_report_change", args=[reports.pin.pk]))
    assert "The reported item has been deleted." in response.content.decode()
    assert staff_client.get(QUEUE).status_code == 200


def test_staff_cannot_add_reports_by_hand(staff_client):
    assert staff_client.get(reverse("admin:messaging_report_add")).status_code == 403


# --- Actions -------------------------------------------------------------------------------------


def assert_resolved(report, status, staff):
    report.refresh_from_db()
    assert report.status == status
    assert report.resolved_by == staff
    assert report.resolved_at is not None


def test_dismiss_closes_the_report_and_changes_nothing_else(staff_client, world, staff):
    reports = make_reports(world)
    response = act(staff_client, "dismiss", reports.pin)
    assert "Dismissed 1 report." in response.content.decode()
    assert_resolved(reports.pin, Report.Status.DISMISSED, staff)
    assert Pin.objects.get(pk=world.pin.pk).hidden_at is None
    assert Report.objects.open().count() == 3


def test_hide_item_hides_a_pin_and_closes_every_open_report_about_it(staff_client, world, staff):
    first = ReportFactory(pin=world.pin)
    second = ReportFactory(pin=world.pin, reason="nudity")
    other = ReportFactory(comment=world.comment)
    response = act(staff_client, "hide_item", first)
    assert "closed 2 reports" in response.content.decode()
    assert Pin.objects.get(pk=world.pin.pk).hidden_at is not None
    assert_resolved(first, Report.Status.ACTIONED, staff)
    assert_resolved(second, Report.Status.ACTIONED, staff)
    other.refresh_from_db()
    assert other.status == Report.Status.OPEN
    # Hidden means gone for everyone else.
    assert staff_client.get(world.pin.get_absolute_url()).status_code == 404


def test_hide_item_hides_a_comment(staff_client, world, staff):
    report = ReportFactory(comment=world.comment)
    act(staff_client, "hide_item", report)
    assert Comment.objects.get(pk=world.comment.pk).hidden_at is not None
    assert_resolved(report, Report.Status.ACTIONED, staff)


def test_hide_item_removes_a_message_but_keeps_it_for_the_report(
    staff_client, client_for, world, staff
):
    report = ReportFactory(message=world.message, reporter=world.rita)
    act(staff_client, "hide_item", report)
    message = Message.objects.get(pk=world.message.pk)
    assert message.is_deleted
    assert_resolved(report, Report.Status.ACTIONED, staff)
    # The conversation shows it as deleted; the report's page still shows what was said.
    conversation = client_for(world.rita).get(
        reverse("conversation", args=[message.conversation_id])
    )
    page = conversation.content.decode()
    assert "message deleted" in page
    assert "A nasty private message" not in page
    change = reverse("admin:messaging_report_change", args=[report.pk])
    assert "A nasty private message" in staff_client.get(change).content.decode()


def test_hide_item_on_a_profile_says_to_deactivate_instead(staff_client, world):
    report = ReportFactory(profile=world.owen)
    response = act(staff_client, "hide_item", report)
    assert "deactivate the person instead" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Report.Status.OPEN
    world.owen.refresh_from_db()
    assert world.owen.is_active


@pytest.mark.parametrize("kind", ["pin", "comment", "profile", "message"])
def test_deactivate_author_deactivates_and_hides_their_content(staff_client, world, staff, kind):
    report = getattr(make_reports(world), kind)
    response = act(staff_client, "deactivate_author", report)
    assert "Deactivated the author" in response.content.decode()
    world.owen.refresh_from_db()
    assert not world.owen.is_active
    assert Pin.objects.get(pk=world.pin.pk).hidden_at is not None
    assert_resolved(report, Report.Status.ACTIONED, staff)
    world.rita.refresh_from_db()
    assert world.rita.is_active


def test_a_message_can_be_removed_from_its_report_page(staff_client, world, staff):
    report = ReportFactory(message=world.message)
    url = reverse("admin:messaging_report_change", args=[report.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="CHANGE_FORM-action"' in page
    assert "Hide the reported item (remove a message)" in page
    response = staff_client.post(
        url, {"CHANGE_FORM-action": "hide_item", "_selected_action": [report.pk]}, follow=True
    )
    assert "Hid the item; closed 1 report." in response.content.decode()
    assert Message.objects.get(pk=world.message.pk).is_deleted
    assert_resolved(report, Report.Status.ACTIONED, staff)


def test_actions_skip_reports_already_resolved(staff_client, world, staff):
    report = ReportFactory(
        pin=world.pin, status=Report.Status.DISMISSED, resolved_at=timezone.now(),
        resolved_by=staff,
    )  # fmt: skip
    response = act(staff_client, "hide_item", report)
    assert "None of the selected reports were open." in response.content.decode()
    assert Pin.objects.get(pk=world.pin.pk).hidden_at is None


# --- Query counts --------------------------------------------------------------------------------


def test_queue_costs_the_same_queries_at_two_sizes(staff_client, world, image):
    make_reports(world)
    staff_client.get(QUEUE)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(QUEUE, {"status": "all"}).status_code == 200
    for _ in range(8):
        owner = UserFactory()
        pin = PinFactory(owner=owner, board=BoardFactory(owner=owner), image=image)
        more = SimpleNamespace(
            pin=pin,
            owen=owner,
            comment=CommentFactory(pin=pin),
            message=services.conversation_send(
                sender=owner, recipients=[world.rita], text="hi", idempotency_key=None
            ),
        )
        make_reports(more)
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(QUEUE, {"status": "all"})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 36
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
