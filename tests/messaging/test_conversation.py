"""The conversation page (/messages/<id>/): who may read and post, cards per viewer, replies,
Load older, edits and deletes, the composer's errors, managing people, and query counts."""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.models import Conversation, Event, Message, Participant
from messaging.services import Attachment
from messaging.views.conversation import PAGE_SIZE
from pinboard.models import Like
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    FollowFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def conversation_url(conversation, **query) -> str:
    url = reverse("conversation", args=[conversation.pk])
    return url + "".join(f"?{key}={value}" for key, value in query.items())


def post_url(conversation) -> str:
    return reverse("conversation_post", args=[conversation.pk])


def edit_url(message) -> str:
    return reverse("message_edit", args=[message.conversation_id, message.pk])


def delete_url(message) -> str:
    return reverse("message_delete", args=[message.conversation_id, message.pk])


def send(conversation, sender, text="", **kwargs) -> Message:
    return services.message_send(sender=sender, conversation=conversation, text=text, **kwargs)


@pytest.fixture
def image(db):
    """One stored image shared by every pin, so big conversations stay fast to build."""
    return PinImageFactory()


@pytest.fixture
def people(db):
    return SimpleNamespace(
        ada=UserFactory(username="ada", display_name="Ada Archer"),
        bea=UserFactory(username="bea", display_name="Bea Baker"),
        cy=UserFactory(username="cy", display_name="Cy Clark"),
        eve=UserFactory(username="eve", display_name="Eve Early"),
        dan=UserFactory(username="dan", display_name="Dan Stranger"),
        fay=UserFactory(username="fay", display_name="Fay Newcomer"),
    )


@pytest.fixture
def chat(people, image):
    """Ada sent a pin to Bea, Cy and Eve; Eve wrote, then left; Bea answered."""
    pin = PinFactory(
        board=BoardFactory(owner=people.ada, name="Sofas"), title="Blue velvet sofa", image=image
    )
    first = services.conversation_send(
        sender=people.ada,
        recipients=[people.bea, people.cy, people.eve],
        text="What do you think?",
        attachment=Attachment(pin=pin),
    )
    conversation = first.conversation
    eve_says = send(conversation, people.eve, "Eve was here")
    services.conversation_leave(conversation=conversation, user=people.eve)
    bea_says = send(conversation, people.bea, "Love it")
    return SimpleNamespace(
        conversation=conversation, pin=pin, first=first, eve_says=eve_says, bea_says=bea_says
    )


# --- Who may read and post ----------------------------------------------------------------

ROLES = ["participant", "former participant", "stranger", "anonymous"]


def client_as(role, people, client, client_for):
    person = {"participant": people.bea, "former participant": people.eve, "stranger": people.dan}
    return client if role == "anonymous" else client_for(person[role])


@pytest.mark.parametrize(
    ("role", "expected"),
    [("participant", 200), ("former participant", 404), ("stranger", 404), ("anonymous", 302)],
)
def test_only_people_in_the_conversation_can_open_it(
    role, expected, people, chat, client, client_for
):
    response = client_as(role, people, client, client_for).get(conversation_url(chat.conversation))
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("account_login"))
    if expected == 200:
        assert "Love it" in response.text
    else:
        assert "Love it" not in response.text


def _own_message(role, people, chat):
    """The message each role would edit or delete: their own, or (stranger) someone's."""
    return {
        "participant": chat.bea_says,
        "former participant": chat.eve_says,
        "stranger": chat.bea_says,
        "anonymous": chat.bea_says,
    }[role]


def _endpoint(action, role, people, chat):
    conversation = chat.conversation
    pk = conversation.pk
    message = _own_message(role, people, chat)
    return {
        "post": (post_url(conversation), {"text": "Hello", "idempotency_key": str(uuid.uuid4())}),
        "add": (reverse("conversation_add_people", args=[pk]), {"usernames": "fay"}),
        "rename": (reverse("conversation_rename", args=[pk]), {"name": "Sofa hunters"}),
        "level": (reverse("conversation_level", args=[pk]), {"level": "none"}),
        "leave": (reverse("conversation_leave", args=[pk]), {}),
        "edit": (edit_url(message), {"text": "Changed my mind"}),
        "delete": (delete_url(message), {}),
    }[action]


def _snapshot(chat):
    conversation = Conversation.objects.get(pk=chat.conversation.pk)
    return (
        conversation.name,
        list(Message.objects.order_by("pk").values_list("text", "deleted_at")),
        list(
            Participant.objects.filter(conversation=conversation)
            .order_by("pk")
            .values_list("user_id", "left_at", "level")
        ),
    )


@pytest.mark.parametrize("action", ["post", "add", "rename", "level", "leave", "edit", "delete"])
@pytest.mark.parametrize("role", ROLES)
def test_only_people_in_the_conversation_can_change_it(
    action, role, people, chat, client, client_for
):
    url, data = _endpoint(action, role, people, chat)
    before = _snapshot(chat)
    response = client_as(role, people, client, client_for).post(url, data)
    if role == "participant":
        assert response.status_code == 302
        assert _snapshot(chat) != before
    else:
        assert response.status_code == (302 if role == "anonymous" else 404)
        if role == "anonymous":
            assert response["Location"].startswith(reverse("account_login"))
        assert _snapshot(chat) == before


def test_someone_elses_message_cannot_be_edited_or_deleted(people, chat, client_for):
    client = client_for(people.bea)
    assert client.get(edit_url(chat.first)).status_code == 404
    assert client.post(edit_url(chat.first), {"text": "Mine now"}).status_code == 404
    assert client.post(delete_url(chat.first)).status_code == 404
    chat.first.refresh_from_db()
    assert chat.first.text == "What do you think?"
    assert chat.first.deleted_at is None


def test_a_message_id_from_another_conversation_is_useless(people, chat, client_for, image, htmx):
    elsewhere = services.conversation_send(sender=people.dan, recipients=[people.fay], text="Hi")
    client = client_for(people.bea)
    # Bea's conversation id with a message id from a conversation she is not in.
    url = reverse("message_detail", args=[chat.conversation.pk, elsewhere.pk])
    assert client.get(url, **htmx).status_code == 404
    response = client.post(
        post_url(chat.conversation), {"text": "Sneaky reply", "reply_to": elsewhere.pk}
    )
    assert response.status_code == 400
    assert not Message.objects.filter(text="Sneaky reply").exists()


# --- Opening it --------------------------------------------------------------------------


def test_opening_the_conversation_marks_it_read(people, chat, client_for):
    participant = Participant.objects.get(conversation=chat.conversation, user=people.cy)
    assert participant.unread_count == 3
    client_for(people.cy).get(conversation_url(chat.conversation))
    participant.refresh_from_db()
    assert participant.unread_count == 0
    assert participant.last_read_message_id == chat.bea_says.pk


def test_page_shows_messages_oldest_first_with_names_and_the_newest_anchor(
    people, chat, client_for
):
    response = client_for(people.cy).get(conversation_url(chat.conversation))
    html = response.text
    assert html.index("What do you think?") < html.index("Eve was here") < html.index("Love it")
    assert 'id="latest"' in html
    assert "Ada Archer, Bea Baker" in html  # the title: the other people now in it
    assert "Eve Early" in html  # her message stays, signed with her name


def test_a_deleted_users_messages_stay_signed_deleted_user(people, chat, client_for):
    people.bea.delete()
    response = client_for(people.cy).get(conversation_url(chat.conversation))
    assert "Love it" in response.text
    assert "deleted user" in response.text
    assert "Bea Baker" not in response.text


def test_message_text_is_escaped_and_keeps_its_line_breaks(people, chat, client_for):
    send(chat.conversation, people.bea, "<script>alert(1)</script>\nsecond line")
    response = client_for(people.cy).get(conversation_url(chat.conversation))
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>second line" in response.text


# --- Cards, per viewer -------------------------------------------------------------------


@pytest.fixture
def olga(people):
    """Someone outside the conversation whose pin and board are sent around in it; Ada
    collaborates on her board."""
    olga = UserFactory(username="olga", display_name="Olga Owner")
    board = BoardFactory(owner=olga, name="Velvet hideaway")
    BoardMemberFactory(board=board, user=people.ada)
    pin = PinFactory(board=board, title="Emerald armchair")  # an image of its own
    return SimpleNamespace(user=olga, board=board, pin=pin)


def test_a_public_pin_card_shows_image_title_owner_and_actions(people, chat, client_for):
    response = client_for(people.cy).get(conversation_url(chat.conversation))
    html = response.text
    assert "Blue velvet sofa" in html
    assert chat.pin.image.grid.url in html
    assert reverse("pin_save", args=[chat.pin.pk]) in html
    assert reverse("pin_like", args=[chat.pin.pk]) in html
    assert reverse("pin_detail", args=[chat.pin.pk]) in html


def test_a_pin_made_secret_after_sending_shows_only_a_private_card_to_those_who_cant_see_it(
    people, chat, client_for, olga
):
    send(chat.conversation, people.ada, attachment=Attachment(pin=olga.pin))
    olga.board.is_secret = True
    olga.board.save()

    collaborator = client_for(people.ada).get(conversation_url(chat.conversation)).text
    assert "Emerald armchair" in collaborator
    assert "Olga Owner" in collaborator

    outsider = client_for(people.bea).get(conversation_url(chat.conversation)).text
    assert "This pin is private" in outsider
    assert "Emerald armchair" not in outsider
    assert "Olga Owner" not in outsider
    assert reverse("pin_detail", args=[olga.pin.pk]) not in outsider


def test_a_deleted_pin_leaves_an_unavailable_card_and_the_conversation_goes_on(
    people, chat, client_for
):
    chat.pin.delete()
    response = client_for(people.cy).get(conversation_url(chat.conversation))
    assert response.status_code == 200
    assert "This pin is no longer available" in response.text
    assert "Blue velvet sofa" not in response.text
    assert "What do you think?" in response.text


def test_a_public_board_card_shows_cover_name_owner_and_pin_count(people, chat, client_for, olga):
    send(chat.conversation, people.ada, attachment=Attachment(board=olga.board))
    html = client_for(people.bea).get(conversation_url(chat.conversation)).text
    assert "Velvet hideaway" in html
    assert "Olga Owner · 1 pin" in html
    assert olga.pin.image.grid.url in html
    assert reverse("board_follow", args=[olga.board.pk]) in html
    assert "Follow board" in html


def test_a_secret_board_card_is_private_for_those_who_cant_see_it(people, chat, client_for, olga):
    send(chat.conversation, people.ada, attachment=Attachment(board=olga.board))
    olga.board.is_secret = True
    olga.board.save()
    html = client_for(people.bea).get(conversation_url(chat.conversation)).text
    assert "This board is private" in html
    assert "Velvet hideaway" not in html
    assert "Olga Owner" not in html
    assert "Emerald armchair" not in html
    assert olga.pin.image.grid.url not in html


def test_a_deleted_board_leaves_an_unavailable_card(people, chat, client_for, olga):
    send(chat.conversation, people.ada, attachment=Attachment(board=olga.board))
    olga.board.delete()
    html = client_for(people.bea).get(conversation_url(chat.conversation)).text
    assert "This board is no longer available" in html
    assert "Velvet hideaway" not in html


def test_a_profile_card_shows_the_person_and_a_follow_button(people, chat, client_for, olga):
    send(chat.conversation, people.ada, attachment=Attachment(profile=olga.user))
    html = client_for(people.bea).get(conversation_url(chat.conversation)).text
    assert "Olga Owner" in html
    assert "@olga" in html
    assert reverse("user_follow", args=["olga"]) in html


def test_card_buttons_show_what_the_viewer_already_did(people, chat, client_for, olga):
    send(chat.conversation, people.ada, attachment=Attachment(profile=olga.user))
    FollowFactory(follower=people.bea, followee=olga.user)
    Like.objects.create(user=people.bea, pin=chat.pin)
    html = client_for(people.bea).get(conversation_url(chat.conversation)).text
    assert "♥ Liked" in html
    assert "1 like" in html
    assert 'value="0" aria-pressed="true">Following<' in html


def test_every_card_has_a_reply_box_that_answers_it(people, chat, client_for):
    html = client_for(people.cy).get(conversation_url(chat.conversation)).text
    assert f'id="reply-{chat.first.pk}"' in html
    assert f'name="reply_to" value="{chat.first.pk}"' in html


# --- Replies -----------------------------------------------------------------------------


def test_a_reply_quotes_the_card_it_answers(people, chat, client_for):
    client = client_for(people.bea)
    response = client.post(
        post_url(chat.conversation),
        {"text": "Where is it from?", "reply_to": chat.first.pk, "idempotency_key": uuid.uuid4()},
    )
    assert response.status_code == 302
    assert response["Location"] == conversation_url(chat.conversation) + "#latest"
    reply = Message.objects.get(text="Where is it from?")
    assert reply.reply_to == chat.first

    html = client_for(people.ada).get(conversation_url(chat.conversation)).text
    item = html[html.index(f'id="message-{reply.pk}"') :]
    quote = item[item.index('class="quote"') : item.index("</a>")]
    assert "Blue velvet sofa" in quote
    assert chat.pin.image.grid.url in quote


def test_a_quoted_card_follows_the_same_privacy_rule(people, chat, client_for, olga):
    card = send(chat.conversation, people.ada, attachment=Attachment(pin=olga.pin))
    send(chat.conversation, people.ada, "Lovely, right?", reply_to=card)
    olga.board.is_secret = True
    olga.board.save()
    html = client_for(people.bea).get(conversation_url(chat.conversation)).text
    assert "Lovely, right?" in html
    assert html.count("This pin is private") == 2  # the card and the quote
    assert "Emerald armchair" not in html


def test_replying_with_htmx_appends_the_reply_and_resets_only_that_reply_box(
    people, chat, client_for, htmx
):
    response = client_for(people.bea).post(
        post_url(chat.conversation),
        {"text": "Where is it from?", "reply_to": chat.first.pk, "idempotency_key": uuid.uuid4()},
        **htmx,
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    reply = Message.objects.get(text="Where is it from?")
    assert f'id="message-{reply.pk}"' in response.text
    assert f'<details class="reply-box" id="reply-{chat.first.pk}" hx-swap-oob="true">' in (
        response.text
    )
    assert 'id="composer"' not in response.text  # what Bea is typing there stays


# --- Load older --------------------------------------------------------------------------


def test_the_page_shows_the_newest_fifty_and_loads_older_by_cursor(people, chat, client_for, htmx):
    for n in range(60):
        send(chat.conversation, people.ada, f"Numbered {n:02d}")
    client = client_for(people.bea)
    page = client.get(conversation_url(chat.conversation))
    shown = [m.text for m in page.context["message_list"]]
    assert shown == [f"Numbered {n:02d}" for n in range(10, 60)]
    oldest_shown = page.context["message_list"][0]
    older_url = conversation_url(chat.conversation, before=oldest_shown.pk)
    assert f'href="{older_url}"' in page.text
    assert "Load older messages" in page.text

    fragment = client.get(older_url, **htmx)
    assert "<html" not in fragment.text
    texts = [m.text for m in fragment.context["message_list"]]
    assert texts == [
        "What do you think?",
        "Eve was here",
        "Love it",
        *[f"Numbered {n:02d}" for n in range(10)],
    ]
    assert "Load older messages" not in fragment.text

    without_js = client.get(older_url)
    assert "<html" in without_js.text
    assert "Newer messages" in without_js.text


@pytest.mark.parametrize("size", [1, 2])
def test_a_send_costs_the_same_queries_at_any_size(
    people, chat, client_for, image, size, django_assert_num_queries, htmx
):
    if size == 2:
        services.conversation_add_people(
            conversation=chat.conversation, by=people.ada, people=[people.dan, people.fay]
        )
        _add_mixed_messages(chat.conversation, people, 30, image)
    client = client_for(people.bea)
    data = {"text": "Sent", "idempotency_key": str(uuid.uuid4())}
    # Session, user, conversation; the rate limit's count (one upsert); the idempotency key;
    # the send (savepoint, participants, their people, blocks, locking the conversation, the
    # message, the conversation's latest, unread counts, the sender's read mark, the
    # recipients' events and their NOTIFY in one statement, release); the new message; the
    # composer's pins and boards. (Was 32: 12 for the rate limit, 3 for publishing.)
    with django_assert_num_queries(19):
        response = client.post(post_url(chat.conversation), data, **htmx)
    assert response.status_code == 200
    assert chat.conversation.messages.filter(text="Sent").exists()


def test_loading_older_messages_costs_the_same_queries_at_any_size(
    people, chat, client_for, image, django_assert_num_queries, htmx
):
    _add_mixed_messages(chat.conversation, people, 60, image)
    client = client_for(people.bea)
    cursor = Message.objects.order_by("-pk")[9].pk
    # Session, user, conversation, messages and their quotes (prefetched); the cards
    # (messaging/cards.py): pins, boards, the boards' cover pins, profiles. (Was 14.)
    with django_assert_num_queries(9):
        client.get(conversation_url(chat.conversation, before=cursor), **htmx)
    _add_mixed_messages(chat.conversation, people, 60, image)
    cursor = Message.objects.order_by("-pk")[9].pk
    with django_assert_num_queries(9):
        client.get(conversation_url(chat.conversation, before=cursor), **htmx)


def test_an_open_page_fetches_only_the_messages_it_lacks(people, chat, client_for, htmx):
    client = client_for(people.cy)
    page = client.get(conversation_url(chat.conversation)).text
    assert f'data-new-messages-url="{conversation_url(chat.conversation)}"' in page
    newest = send(chat.conversation, people.ada, "Just arrived")
    response = client.get(conversation_url(chat.conversation, after=chat.bea_says.pk), **htmx)
    assert [m.pk for m in response.context["message_list"]] == [newest.pk]
    assert "<html" not in response.text
    assert "Love it" not in response.text
    nothing_new = client.get(conversation_url(chat.conversation, after=newest.pk), **htmx)
    assert nothing_new.status_code == 204
    # The page, having shown it, says so (the live fetch itself marks nothing read).
    client.post(reverse("conversation_read", args=[chat.conversation.pk]), **htmx)
    assert Participant.objects.get(conversation=chat.conversation, user=people.cy).unread_count == 0


def test_a_live_fetch_marks_nothing_read_and_echoes_nothing(people, chat, client_for, htmx):
    # Marking read on every live fetch published "conversation.read" back to the same tab,
    # which fetched the badge again: only the page load or an explicit request marks read.
    client = client_for(people.cy)
    client.get(conversation_url(chat.conversation))
    newest = send(chat.conversation, people.ada, "Just arrived")
    reads_before = Event.objects.filter(user=people.cy, kind=Event.Kind.CONVERSATION_READ).count()

    response = client.get(conversation_url(chat.conversation, after=chat.bea_says.pk), **htmx)

    assert [m.pk for m in response.context["message_list"]] == [newest.pk]
    participant = Participant.objects.get(conversation=chat.conversation, user=people.cy)
    assert participant.unread_count == 1
    reads = Event.objects.filter(user=people.cy, kind=Event.Kind.CONVERSATION_READ).count()
    assert reads == reads_before


def test_marking_read_explicitly(people, chat, client_for, client, htmx):
    url = reverse("conversation_read", args=[chat.conversation.pk])
    assert client_for(people.cy).post(url, **htmx).status_code == 204
    participant = Participant.objects.get(conversation=chat.conversation, user=people.cy)
    assert participant.unread_count == 0
    assert participant.last_read_message_id == chat.bea_says.pk
    # Without JavaScript, back to the conversation; strangers and former members: 404.
    assert client_for(people.cy).post(url).status_code == 302
    assert client_for(people.eve).post(url).status_code == 404
    assert client_for(people.fay).post(url).status_code == 404
    assert client.post(url).status_code == 302  # anonymous: to the login page


def test_an_open_page_catches_up_a_page_at_a_time(people, chat, client_for, htmx):
    client = client_for(people.cy)
    newest = chat.bea_says.pk
    sent = [send(chat.conversation, people.ada, f"Catching up {n}") for n in range(PAGE_SIZE + 1)]
    first = client.get(conversation_url(chat.conversation, after=newest), **htmx)
    assert [m.pk for m in first.context["message_list"]] == [m.pk for m in sent[:PAGE_SIZE]]
    assert first["X-Pinboard-More"] == "true"
    rest = client.get(conversation_url(chat.conversation, after=sent[PAGE_SIZE - 1].pk), **htmx)
    assert [m.pk for m in rest.context["message_list"]] == [sent[PAGE_SIZE].pk]
    assert "X-Pinboard-More" not in rest


def test_a_bad_cursor_shows_the_newest_messages(people, chat, client_for):
    response = client_for(people.bea).get(conversation_url(chat.conversation, before="abc"))
    assert response.status_code == 200
    assert "Love it" in response.text


# --- Editing and deleting ------------------------------------------------------------------


def test_own_text_can_be_edited_within_fifteen_minutes(people, chat, client_for):
    client = client_for(people.bea)
    page = client.get(conversation_url(chat.conversation)).text
    assert edit_url(chat.bea_says) in page
    response = client.post(edit_url(chat.bea_says), {"text": "Love it, truly"})
    assert response.status_code == 302
    chat.bea_says.refresh_from_db()
    assert chat.bea_says.text == "Love it, truly"
    html = client_for(people.cy).get(conversation_url(chat.conversation)).text
    assert "Love it, truly" in html
    assert "edited" in html


def test_without_javascript_editing_is_a_page_of_its_own(people, chat, client_for):
    response = client_for(people.bea).get(edit_url(chat.bea_says))
    assert response.status_code == 200
    assert "<html" in response.text
    assert ">Love it</textarea>" in response.text
    assert "hx-post" not in response.text[response.text.index('class="message-edit"') :]


def test_editing_inline_with_htmx(people, chat, client_for, htmx):
    client = client_for(people.bea)
    form = client.get(edit_url(chat.bea_says), **htmx)
    assert "<html" not in form.text
    assert "Love it</textarea>" in form.text
    saved = client.post(edit_url(chat.bea_says), {"text": "Love it a lot"}, **htmx)
    assert "<html" not in saved.text
    assert "Love it a lot" in saved.text
    assert 'class="message__edited"' in saved.text


def test_a_message_older_than_fifteen_minutes_cannot_be_edited(people, chat, client_for):
    Message.objects.filter(pk=chat.bea_says.pk).update(
        created_at=timezone.now() - timedelta(minutes=16)
    )
    client = client_for(people.bea)
    page = client.get(conversation_url(chat.conversation)).text
    assert edit_url(chat.bea_says) not in page
    response = client.post(edit_url(chat.bea_says), {"text": "Too late"})
    assert response.status_code == 400
    assert "Messages can be edited for 15 minutes after sending." in response.text
    assert "Too late</textarea>" in response.text  # kept, to copy into a new message
    chat.bea_says.refresh_from_db()
    assert chat.bea_says.text == "Love it"
    assert chat.bea_says.edited_at is None
    opened = client.get(edit_url(chat.bea_says))
    assert opened.status_code == 302


def test_an_edit_cannot_empty_a_message(people, chat, client_for):
    response = client_for(people.bea).post(edit_url(chat.bea_says), {"text": "   "})
    assert response.status_code == 400
    assert "Write a message first." in response.text
    chat.bea_says.refresh_from_db()
    assert chat.bea_says.text == "Love it"


def test_deleting_a_card_message_leaves_message_deleted_without_text_or_card(
    people, chat, client_for
):
    response = client_for(people.ada).post(delete_url(chat.first))
    assert response.status_code == 302
    html = client_for(people.bea).get(conversation_url(chat.conversation)).text
    item = html[html.index(f'id="message-{chat.first.pk}"') :]
    item = item[: item.index("</li>")]
    assert "message deleted" in item
    assert "What do you think?" not in html
    assert "Blue velvet sofa" not in html
    assert f'id="reply-{chat.first.pk}"' not in html


def test_deleting_with_htmx_answers_with_the_deleted_message(people, chat, client_for, htmx):
    response = client_for(people.bea).post(delete_url(chat.bea_says), **htmx)
    assert "<html" not in response.text
    assert "message deleted" in response.text
    assert "Love it" not in response.text


# --- The composer ----------------------------------------------------------------------------


def test_sending_from_the_composer_stores_one_message_and_returns_to_the_latest(
    people, chat, client_for
):
    response = client_for(people.cy).post(
        post_url(chat.conversation), {"text": "Count me in", "idempotency_key": uuid.uuid4()}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#latest")
    assert Message.objects.filter(sender=people.cy, text="Count me in").count() == 1


def test_sending_with_htmx_appends_the_message_and_a_fresh_composer(people, chat, client_for, htmx):
    key = uuid.uuid4()
    response = client_for(people.cy).post(
        post_url(chat.conversation), {"text": "Count me in", "idempotency_key": key}, **htmx
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    message = Message.objects.get(text="Count me in")
    assert f'id="message-{message.pk}"' in response.text
    assert 'id="composer"' in response.text
    assert 'hx-swap-oob="true"' in response.text
    assert str(key) not in response.text  # the next message gets a new key


def test_the_same_send_twice_stores_one_message(people, chat, client_for, htmx):
    client = client_for(people.cy)
    data = {"text": "Only once", "idempotency_key": str(uuid.uuid4())}
    client.post(post_url(chat.conversation), data)
    client.post(post_url(chat.conversation), data, **htmx)
    assert Message.objects.filter(text="Only once").count() == 1


def test_attaching_one_of_your_pins_sends_a_pin_card(people, chat, client_for, image):
    mine = PinFactory(board=BoardFactory(owner=people.cy), title="Cy's lamp", image=image)
    client = client_for(people.cy)
    page = client.get(conversation_url(chat.conversation)).text
    assert f'value="pin:{mine.pk}"' in page
    client.post(
        post_url(chat.conversation),
        {"attachment": f"pin:{mine.pk}", "idempotency_key": uuid.uuid4()},
    )
    sent = Message.objects.get(sender=people.cy)
    assert sent.pin == mine
    assert sent.kind == Message.Kind.PIN


def test_someone_elses_pin_cannot_be_attached(people, chat, client_for):
    response = client_for(people.cy).post(
        post_url(chat.conversation),
        {"attachment": f"pin:{chat.pin.pk}", "idempotency_key": uuid.uuid4()},
    )
    assert response.status_code == 400
    assert "Choose one of your pins or boards to attach." in response.text
    assert not Message.objects.filter(sender=people.cy).exists()


def test_an_empty_message_is_refused_and_nothing_is_stored(people, chat, client_for):
    count = Message.objects.count()
    response = client_for(people.cy).post(post_url(chat.conversation), {"text": "  "})
    assert response.status_code == 400
    assert "Write a message first." in response.text
    assert Message.objects.count() == count


def test_a_too_long_message_is_refused_and_keeps_the_text(people, chat, client_for):
    count = Message.objects.count()
    text = "x" * 2001
    response = client_for(people.cy).post(
        post_url(chat.conversation), {"text": text, "idempotency_key": uuid.uuid4()}
    )
    assert response.status_code == 400
    assert "Messages can be up to 2,000 characters; this one has 2,001." in response.text
    assert f">{text}</textarea>" in response.text
    assert Message.objects.count() == count


def test_line_breaks_count_as_one_character(people, chat, client_for):
    text = "\r\n".join(["y" * 999, "z" * 1000])  # 2,000 characters as the browser counts them
    response = client_for(people.cy).post(post_url(chat.conversation), {"text": text})
    assert response.status_code == 302
    assert Message.objects.get(sender=people.cy).text == text.replace("\r\n", "\n")


def test_a_refused_htmx_send_comes_back_in_the_composer_with_the_text(
    people, chat, client_for, htmx
):
    key = str(uuid.uuid4())
    text = "x" * 2001
    response = client_for(people.cy).post(
        post_url(chat.conversation), {"text": text, "idempotency_key": key}, **htmx
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#composer"
    assert response["HX-Reswap"] == "outerHTML"
    assert f">{text}</textarea>" in response.text
    assert key in response.text  # the same send, retried, is still one message
    assert not Message.objects.filter(sender=people.cy).exists()


def test_a_refused_htmx_reply_comes_back_in_its_reply_box(people, chat, client_for, htmx):
    response = client_for(people.cy).post(
        post_url(chat.conversation), {"text": " ", "reply_to": chat.first.pk}, **htmx
    )
    assert response["HX-Retarget"] == f"#reply-{chat.first.pk}"
    assert "Write a message first." in response.text
    assert f'id="reply-{chat.first.pk}" open' in response.text


def test_a_refused_reply_without_javascript_opens_its_reply_box_with_the_error(
    people, chat, client_for
):
    response = client_for(people.cy).post(
        post_url(chat.conversation), {"text": "x" * 2001, "reply_to": chat.first.pk}
    )
    assert response.status_code == 400
    assert f'id="reply-{chat.first.pk}" open' in response.text
    assert "Messages can be up to 2,000 characters" in response.text


def test_a_secret_pin_is_refused_naming_who_cant_see_it(people, chat, client_for, image):
    board = BoardFactory(owner=people.ada, name="Surprise party", is_secret=True)
    secret = PinFactory(board=board, title="Birthday cake", image=image)
    count = Message.objects.count()
    response = client_for(people.ada).post(
        post_url(chat.conversation),
        {"text": "Shh", "attachment": f"pin:{secret.pk}", "idempotency_key": uuid.uuid4()},
    )
    assert response.status_code == 400
    error = response.text[response.text.index('class="errorlist nonfield"') :]
    error = error[: error.index("</div>")]
    assert "can&#x27;t see this secret pin, so it was not sent." in error
    assert "Bea Baker" in error
    assert "Cy Clark" in error
    assert reverse("board_collaborators", args=[board.pk]) in response.text  # invite them
    assert ">Shh</textarea>" in response.text
    assert Message.objects.count() == count


# --- Managing the conversation -------------------------------------------------------------


def test_manage_page_lists_the_people_in_it(people, chat, client_for):
    html = client_for(people.bea).get(reverse("conversation_manage", args=[chat.conversation.pk]))
    assert "Cy Clark" in html.text
    assert "Eve Early" not in html.text
    assert (
        client_for(people.dan)
        .get(reverse("conversation_manage", args=[chat.conversation.pk]))
        .status_code
        == 404
    )


def test_adding_people_lets_them_open_the_whole_conversation(people, chat, client_for):
    response = client_for(people.bea).post(
        reverse("conversation_add_people", args=[chat.conversation.pk]),
        {"usernames": "@Fay, dan"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == conversation_url(chat.conversation) + "#latest"
    assert "Added Fay Newcomer and Dan Stranger." in response.text  # shown as a toast
    html = client_for(people.fay).get(conversation_url(chat.conversation)).text
    assert "What do you think?" in html
    assert client_for(people.dan).get(conversation_url(chat.conversation)).status_code == 200


def test_adding_an_unknown_username_says_so_and_adds_no_one(people, chat, client_for):
    response = client_for(people.bea).post(
        reverse("conversation_add_people", args=[chat.conversation.pk]),
        {"usernames": "fay nobody"},
    )
    assert response.status_code == 400
    assert "No one here is called “nobody”" in response.text
    assert not Participant.objects.filter(user=people.fay).exists()


def test_adding_people_beyond_ten_is_refused_with_the_reason(people, chat, client_for):
    for n in range(6):  # Ada, Bea, Cy and six more: nine people now
        services.conversation_add_people(
            conversation=chat.conversation, by=people.ada, people=[UserFactory(username=f"p{n}")]
        )
    response = client_for(people.bea).post(
        reverse("conversation_add_people", args=[chat.conversation.pk]), {"usernames": "fay dan"}
    )
    assert response.status_code == 400
    assert "A conversation can have up to 10 people. There&#x27;s room for 1 more." in (
        response.text
    )
    assert 'value="fay dan"' in response.text  # kept, to correct
    assert Participant.objects.active().filter(conversation=chat.conversation).count() == 9


def test_renaming_a_group_shows_the_new_name(people, chat, client_for):
    client = client_for(people.cy)
    client.post(reverse("conversation_rename", args=[chat.conversation.pk]), {"name": "Sofa crew"})
    html = client.get(conversation_url(chat.conversation)).text
    assert '<h1 class="conversation__title">Sofa crew</h1>' in html


def test_a_direct_post_cannot_name_a_one_to_one_conversation(people, client_for):
    pair = services.conversation_send(sender=people.cy, recipients=[people.bea], text="Hi")
    pair = pair.conversation
    client = client_for(people.cy)
    response = client.post(reverse("conversation_rename", args=[pair.pk]), {"name": "Us two"})
    assert response.status_code == 400
    assert "Only group conversations can be named." in response.text
    pair.refresh_from_db()
    assert pair.name == ""


def test_choosing_a_notification_level(people, chat, client_for):
    client = client_for(people.cy)
    url = reverse("conversation_level", args=[chat.conversation.pk])

    def level():
        return Participant.objects.get(conversation=chat.conversation, user=people.cy).level

    page = client.get(reverse("conversation_manage", args=[chat.conversation.pk]))
    assert 'name="level" value="all" checked' in page.text
    client.post(url, {"level": "none"})
    assert level() == "none"
    client.post(url, {"level": "none"})  # a double submit doesn't flip it back
    assert level() == "none"
    response = client.post(url, {"level": "mentions"}, follow=True)
    assert level() == "mentions"
    assert "only when someone mentions you" in response.text


def test_an_unknown_notification_level_is_refused_and_changes_nothing(people, chat, client_for):
    client = client_for(people.cy)
    response = client.post(
        reverse("conversation_level", args=[chat.conversation.pk]), {"level": "loud"}, follow=True
    )
    assert "Choose everything, mentions only or nothing." in response.text
    assert Participant.objects.get(conversation=chat.conversation, user=people.cy).level == "all"


def test_leaving_goes_to_the_inbox_and_closes_the_conversation(people, chat, client_for):
    client = client_for(people.cy)
    response = client.post(reverse("conversation_leave", args=[chat.conversation.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("inbox")
    assert "You left" in response.text
    assert client.get(conversation_url(chat.conversation)).status_code == 404


# --- Query counts ----------------------------------------------------------------------------


def _add_mixed_messages(conversation, people, count, image):
    """Text, pin, board and profile cards, and replies to cards, from several people."""
    senders = [people.ada, people.bea, people.cy]
    last_card = None
    for n in range(count):
        sender = senders[n % 3]
        kind = n % 5
        if kind == 0:
            pin = PinFactory(board=BoardFactory(owner=sender), image=image)
            last_card = send(conversation, sender, attachment=Attachment(pin=pin))
        elif kind == 1:
            board = BoardFactory(owner=sender)
            PinFactory(board=board, image=image)
            last_card = send(conversation, sender, attachment=Attachment(board=board))
        elif kind == 2:
            last_card = send(conversation, sender, attachment=Attachment(profile=people.fay))
        elif kind == 3 and last_card is not None:
            send(conversation, sender, f"Reply {n}", reply_to=last_card)
        else:
            send(conversation, sender, f"Text {n}")


def test_the_page_costs_the_same_queries_at_any_size(
    people, image, client_for, django_assert_num_queries
):
    first = services.conversation_send(
        sender=people.ada, recipients=[people.bea, people.cy], text="Hi"
    )
    conversation = first.conversation
    _add_mixed_messages(conversation, people, 4, image)
    send(conversation, people.ada, "Anyone?")  # Bea has unread messages at both sizes
    client = client_for(people.bea)
    url = conversation_url(conversation)
    # Session, user, conversation; marking read (savepoint, update, the event and its NOTIFY in
    # one statement, release);
    # messages and their quoted messages (prefetched); the cards, one query per kind with the
    # viewer's visibility, likes and follows (messaging/cards.py): pins, boards with pin counts
    # and cover ids, the cover pins, profiles; participants; the nav badge; the composer's pins
    # and boards. (Was 23: the same pins and boards were read three times.)
    with django_assert_num_queries(17):
        client.get(url)
    services.conversation_add_people(
        conversation=conversation, by=people.ada, people=[people.dan, people.eve]
    )
    _add_mixed_messages(conversation, people, 56, image)
    send(conversation, people.ada, "Anyone?")
    with django_assert_num_queries(17):
        client.get(url)


def test_the_page_asks_the_rules_for_own_messages_and_cards(people, client_for):
    """Delete (Message.deletable_by), own styling, "You", no Block next to yourself, and no
    Follow on a card of your own board or profile (the follow services refuse those)."""
    own_board = BoardFactory(owner=people.ada, name="Lamps")
    first = services.conversation_send(
        sender=people.ada,
        recipients=[people.bea, people.cy],
        text="Mine",
        attachment=Attachment(board=own_board),
    )
    conversation = first.conversation
    own_profile = send(conversation, people.ada, attachment=Attachment(profile=people.ada))
    theirs = send(conversation, people.bea, text="Theirs")
    ada = client_for(people.ada)

    page = ada.get(conversation_url(conversation)).text
    manage = ada.get(reverse("conversation_manage", args=[conversation.pk])).text

    assert delete_url(first) in page
    assert delete_url(own_profile) in page
    assert delete_url(theirs) not in page
    assert page.count("message message--own") == 2
    assert ">You</a>" in page
    assert reverse("board_follow", args=[own_board.pk]) not in page
    assert reverse("user_follow", args=["ada"]) not in page
    assert "@ada · you" in manage
    assert reverse("conversation_block", args=[conversation.pk, "ada"]) not in manage
    assert reverse("conversation_block", args=[conversation.pk, "bea"]) in manage
