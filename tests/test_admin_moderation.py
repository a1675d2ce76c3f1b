"""The moderation-ready admin (issue #6): hide / unhide, deactivate people, deletions that say what
they leave alone, the privacy of message content, and the admin's login behind the site's."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from messaging.models import Message
from pinboard.models import Board, Comment, Pin, PinImage
from tests.factories import (
    CommentFactory,
    MessageFactory,
    ParticipantFactory,
    PinFactory,
    PinImageFactory,
    ReportFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(username="moderator", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client_for, staff):
    return client_for(staff)


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def run_action(client, model, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(changelist(model), data)


def signed_in_as(user) -> list[str]:
    return [
        s.session_key
        for s in Session.objects.all()
        if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


@pytest.fixture
def pin(db):
    return PinFactory(title="Velvet armchair", image=PinImageFactory())


# --- Hide / unhide ----------------------------------------------------------------------------


def test_hide_action_takes_a_pin_off_the_site_and_unhide_brings_it_back(admin_client, pin):
    url = reverse("pin_detail", args=[pin.pk])

    response = run_action(admin_client, Pin, "hide", [pin])

    assert response.status_code == 302
    pin.refresh_from_db()
    assert pin.hidden_at is not None
    assert Client().get(url).status_code == 404
    run_action(admin_client, Pin, "unhide", [pin])
    pin.refresh_from_db()
    assert pin.hidden_at is None
    assert Client().get(url).status_code == 200


def test_hide_action_on_a_board_hides_its_pins_too(admin_client, pin):
    run_action(admin_client, Board, "hide", [pin.board])

    assert Board.objects.get(pk=pin.board_id).hidden_at is not None
    assert Client().get(reverse("board_detail", args=[pin.board_id])).status_code == 404
    assert Client().get(reverse("pin_detail", args=[pin.pk])).status_code == 404


def test_hide_action_on_a_comment(admin_client, pin):
    comment = CommentFactory(pin=pin, text="Buy cheap watches here")

    run_action(admin_client, Comment, "hide", [comment])

    assert Comment.objects.get(pk=comment.pk).hidden_at is not None
    assert (
        "cheap watches" not in Client().get(reverse("pin_detail", args=[pin.pk])).content.decode()
    )


def test_hidden_filter_lists_only_hidden_pins(admin_client, pin):
    other = PinFactory(title="Oak table", image=pin.image)
    run_action(admin_client, Pin, "hide", [pin])

    hidden = admin_client.get(changelist(Pin) + "?hidden=yes").content.decode()
    shown = admin_client.get(changelist(Pin) + "?hidden=no").content.decode()

    assert "Velvet armchair" in hidden
    assert "Oak table" not in hidden
    assert "Oak table" in shown
    assert "Velvet armchair" not in shown
    assert other.hidden_at is None


# --- People -----------------------------------------------------------------------------------


def test_deactivate_action_signs_the_person_out_and_keeps_their_content(
    admin_client, client_for, pin
):
    person = pin.owner
    client_for(person)
    assert signed_in_as(person)

    run_action(admin_client, person.__class__, "deactivate", [person])

    person.refresh_from_db()
    assert person.is_active is False
    assert signed_in_as(person) == []
    assert Pin.objects.get(pk=pin.pk).hidden_at is None


def test_deactivate_and_hide_action_hides_all_their_boards_pins_and_comments(admin_client, pin):
    person = pin.owner
    comment = CommentFactory(author=person, pin=PinFactory(image=pin.image))

    run_action(admin_client, person.__class__, "deactivate_and_hide", [person])

    person.refresh_from_db()
    assert person.is_active is False
    assert Pin.objects.get(pk=pin.pk).hidden_at is not None
    assert Board.objects.get(pk=pin.board_id).hidden_at is not None
    assert Comment.objects.get(pk=comment.pk).hidden_at is not None


def test_activate_action_lets_a_deactivated_person_back_in(admin_client, pin):
    person = pin.owner
    run_action(admin_client, person.__class__, "deactivate_and_hide", [person])

    run_action(admin_client, person.__class__, "reactivate_and_unhide", [person])

    person.refresh_from_db()
    assert person.is_active is True
    assert Pin.objects.get(pk=pin.pk).hidden_at is None


def test_staff_cannot_deactivate_themselves_by_ticking_their_own_row(admin_client, staff):
    run_action(admin_client, staff.__class__, "deactivate", [staff])

    staff.refresh_from_db()
    assert staff.is_active is True


def test_person_change_page_links_to_their_boards_pins_and_reports_with_counts(admin_client, pin):
    person = pin.owner
    PinFactory(owner=person, board=pin.board, image=pin.image)
    ReportFactory(profile=person)
    ReportFactory(profile=person)

    html = admin_client.get(change(person)).content.decode()

    assert f"{changelist(Board)}?owner__id__exact={person.pk}" in html
    assert f"{changelist(Pin)}?owner__id__exact={person.pk}" in html
    assert f"?profile__id__exact={person.pk}" in html
    assert "1 boards" in html
    assert "2 pins" in html
    assert "2 reports about them" in html
    pins = admin_client.get(f"{changelist(Pin)}?owner__id__exact={person.pk}")
    assert len(pins.context["cl"].result_list) == 2
    reports = admin_client.get(
        reverse("admin:messaging_report_changelist") + f"?profile__id__exact={person.pk}&status=all"
    )
    assert len(reports.context["cl"].result_list) == 2


# --- Deleting: what cascades and what does not ------------------------------------------------


@pytest.fixture
def shared(pin):
    """`pin` saved twice by other people, and sent once in a conversation."""
    saves = [PinFactory(saved_from=pin, image=pin.image, title="Saved armchair") for _ in range(2)]
    message = MessageFactory(pin=pin, text="")
    return saves, message


def test_pin_delete_page_shows_the_saves_and_conversations_that_stay(admin_client, pin, shared):
    html = admin_client.get(reverse("admin:pinboard_pin_delete", args=[pin.pk])).content.decode()

    assert "Not deleted" in html
    assert "<strong>2</strong> saves of these pins by other people" in html
    assert "<strong>1</strong> messages in 1 conversation(s)" in html
    assert "no longer available" in html


def test_bulk_pin_delete_page_shows_what_stays_too(admin_client, pin, shared):
    html = run_action(admin_client, Pin, "delete_selected", [pin]).content.decode()

    assert "<strong>2</strong> saves of these pins by other people" in html
    assert "<strong>1</strong> messages in 1 conversation(s)" in html


def test_board_delete_page_counts_saves_of_its_pins_and_messages_carrying_them(
    admin_client, pin, shared
):
    MessageFactory(board=pin.board, text="")

    html = admin_client.get(
        reverse("admin:pinboard_board_delete", args=[pin.board_id])
    ).content.decode()

    assert "<strong>2</strong> saves of these pins by other people" in html
    assert "carried it stay" in html
    assert "carried one of its pins stay" in html


def test_deleting_a_pin_keeps_the_saves_their_image_and_the_message(admin_client, pin, shared):
    saves, message = shared

    response = admin_client.post(
        reverse("admin:pinboard_pin_delete", args=[pin.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Pin.objects.filter(pk=pin.pk).exists()
    assert Pin.objects.filter(pk__in=[s.pk for s in saves]).count() == 2
    assert PinImage.objects.filter(pk=pin.image_id).exists()
    message.refresh_from_db()
    assert message.pin_id is None
    assert message.kind == Message.Kind.PIN


# --- Message content: only reported messages are readable --------------------------------------


@pytest.fixture
def chat(db):
    sender = UserFactory(username="sender")
    unreported = MessageFactory(sender=sender, text="PRIVATE-PLANS-4711")
    reported = MessageFactory(
        sender=sender, conversation=unreported.conversation, text="ABUSIVE-WORDS-0815"
    )
    ParticipantFactory(conversation=unreported.conversation, user=sender)
    ReportFactory(message=reported, reason="harassment")
    return unreported, reported


def test_unreported_text_is_absent_from_every_admin_page_reported_text_is_shown(admin_client, chat):
    unreported, reported = chat
    pages = {
        "changelist": admin_client.get(changelist(Message)),
        "search by sender": admin_client.get(changelist(Message) + "?q=sender"),
        "unreported change page": admin_client.get(change(unreported)),
        "conversation": admin_client.get(change(unreported.conversation)),
        "conversations": admin_client.get(changelist(unreported.conversation.__class__)),
        "events": admin_client.get(reverse("admin:messaging_event_changelist")),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert "PRIVATE-PLANS-4711" not in response.content.decode(), name

    assert "ABUSIVE-WORDS-0815" in pages["changelist"].content.decode()
    assert "ABUSIVE-WORDS-0815" in admin_client.get(change(reported)).content.decode()


def test_messages_cannot_be_found_by_their_text(admin_client, chat):
    response = admin_client.get(changelist(Message) + "?q=PRIVATE-PLANS-4711")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_messages_are_read_only_and_only_reported_ones_can_be_deleted(admin_client, chat):
    unreported, reported = chat

    assert admin_client.get(reverse("admin:messaging_message_add")).status_code == 403
    assert admin_client.post(change(unreported), {"text": "edited"}).status_code == 403
    assert (
        admin_client.get(
            reverse("admin:messaging_message_delete", args=[unreported.pk])
        ).status_code
        == 403
    )
    response = admin_client.post(
        reverse("admin:messaging_message_delete", args=[reported.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Message.objects.filter(pk=reported.pk).exists()


def test_bulk_delete_refuses_a_selection_with_unreported_messages(admin_client, chat):
    unreported, reported = chat

    run_action(admin_client, Message, "delete_selected", [unreported, reported], post="yes")

    assert Message.objects.filter(pk__in=[unreported.pk, reported.pk]).count() == 2


def test_conversations_cannot_be_deleted_from_the_admin(admin_client, chat):
    conversation = chat[0].conversation
    url = reverse("admin:messaging_conversation_delete", args=[conversation.pk])

    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_person_in_conversations_can_still_be_deleted_and_their_messages_stay(admin_client, chat):
    unreported, _ = chat
    sender = unreported.sender
    url = reverse("admin:accounts_user_delete", args=[sender.pk])

    assert "PRIVATE-PLANS-4711" not in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    unreported.refresh_from_db()
    assert unreported.sender_id is None  # "deleted user"


def test_conversation_changelist_shows_participant_and_message_counts(admin_client, chat):
    unreported, _ = chat
    ParticipantFactory(conversation=unreported.conversation)

    html = admin_client.get(changelist(unreported.conversation.__class__)).content.decode()

    assert '<td class="field-participant_count">2</td>' in html
    assert '<td class="field-message_count">2</td>' in html


# --- The admin's login is the site's, with its rate limits -------------------------------------


def test_admin_login_sends_people_to_the_site_login_keeping_next(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"


def test_admin_login_refuses_an_unsafe_next(client):
    response = client.get("/admin/login/?next=https://evil.example/")

    assert response.url == "/accounts/login/?next=%2Fadmin%2F"


def test_after_too_many_failed_logins_the_admin_is_refused_even_with_the_right_password(
    settings, client, staff
):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,3/5m/key"}
    staff.set_password("the-right-password-1")
    staff.save()
    login_url = client.get("/admin/login/?next=/admin/").url
    for _ in range(3):
        client.post(login_url, {"login": "moderator", "password": "wrong"})

    response = client.post(login_url, {"login": "moderator", "password": "the-right-password-1"})

    assert "Too many failed login attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still not signed in


def test_staff_signing_in_through_the_site_login_reach_the_admin(client, staff):
    staff.set_password("the-right-password-1")
    staff.save()
    login_url = client.get("/admin/login/?next=/admin/").url

    response = client.post(login_url, {"login": "moderator", "password": "the-right-password-1"})

    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_signed_in_people_without_staff_access_get_a_clear_refusal_not_a_loop(client_for):
    client = client_for(UserFactory(username="visitor"))

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert "can't open Pinboard's admin" in response.content.decode()


def test_pin_search_finds_words_of_the_title_or_description_and_exact_usernames(admin_client):
    owner = UserFactory(username="marta")
    sofa = PinFactory(owner=owner, title="Velvet sofas", description="Deep green")
    PinFactory(title="Oak table", description="Round")

    by_word = admin_client.get(changelist(Pin) + "?q=sofa")
    by_description = admin_client.get(changelist(Pin) + "?q=green")
    by_owner = admin_client.get(changelist(Pin) + "?q=Marta")

    for response in (by_word, by_description, by_owner):
        assert response.status_code == 200
        shown = list(response.context["cl"].result_list)
        assert shown == [sofa]
