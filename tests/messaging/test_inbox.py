"""The inbox (/messages/), its quick replies and the nav's unread badge."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.context_processors import unread
from messaging.inbox import PAGE_SIZE, Cursor, people_title, relative_time
from messaging.models import Conversation, Message, Participant
from messaging.services import Attachment
from pinboard import services as pinboard_services
from tests.factories import BoardFactory, BoardMemberFactory, PinFactory, UserFactory

INBOX = "/messages/"


def quick_reply_url(conversation: Conversation) -> str:
    return reverse("conversation_quick_reply", args=[conversation.pk])


def send(sender, recipients, text="", **attachment):
    """A message through the real service (a new conversation or the one with these people)."""
    return services.conversation_send(
        sender=sender, recipients=recipients, text=text, attachment=Attachment(**attachment)
    )


def make_people(*names: str):
    return [UserFactory(username=name.lower(), display_name=name) for name in names]


@pytest.fixture
def ada_bram_chen(db):
    return make_people("Ada", "Bram", "Chen")


def row_html(response, conversation: Conversation) -> str:
    """The HTML of one conversation's row in an inbox response."""
    html = response.content.decode()
    start = html.index(f'id="conversation-{conversation.pk}"')
    return html[start : html.index("</li>", start)]


# --- The list ------------------------------------------------------------------------------


def test_inbox_lists_conversations_by_latest_activity(client_for, ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    with_bram = send(ada, [bram], "first").conversation
    with_chen = send(ada, [chen], "second").conversation
    with_both = send(ada, [bram, chen], "third").conversation
    send(bram, [ada], "bram again")  # the oldest conversation is now the most recent

    response = client_for(ada).get(INBOX)

    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'id="conversation-{c.pk}"') for c in (with_bram, with_both, with_chen)]
    assert positions == sorted(positions)


def test_text_previews_say_who_wrote_it(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    conversation = send(ada, [bram], "see you at 8").conversation

    mine = row_html(client_for(ada).get(INBOX), conversation)
    theirs = row_html(client_for(bram).get(INBOX), conversation)

    assert "You: see you at 8" in mine
    assert "Ada: see you at 8" in theirs


def test_pin_board_and_profile_previews_name_what_was_sent(client_for, ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    pin = PinFactory(board=BoardFactory(owner=ada), title="Blue sofa")
    kitchen = BoardFactory(owner=bram, name="Kitchen")
    pin_chat = send(ada, [bram], pin=pin).conversation
    board_chat = send(bram, [chen], board=kitchen).conversation
    profile_chat = send(chen, [ada, bram], profile=ada).conversation

    bram_inbox = client_for(bram).get(INBOX)
    chen_inbox = client_for(chen).get(INBOX)
    ada_inbox = client_for(ada).get(INBOX)

    assert "Ada sent a pin: Blue sofa" in row_html(bram_inbox, pin_chat)
    assert "Bram sent a board: Kitchen" in row_html(chen_inbox, board_chat)
    assert "Chen sent a profile" in row_html(ada_inbox, profile_chat)
    assert "You sent a pin: Blue sofa" in row_html(ada_inbox, pin_chat)


def test_deleted_message_preview_shows_neither_text_nor_card(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    pin = PinFactory(board=BoardFactory(owner=ada), title="Blue sofa")
    message = send(ada, [bram], "look at this", pin=pin)
    services.message_delete(message=message, user=ada)

    row = row_html(client_for(bram).get(INBOX), message.conversation)

    assert "message deleted" in row
    assert "Blue sofa" not in row
    assert "look at this" not in row


def test_secret_pin_the_viewer_can_no_longer_see_is_previewed_without_its_title(
    client_for, ada_bram_chen
):
    ada, bram, _ = ada_bram_chen
    secret_board = BoardFactory(owner=ada, name="Surprise party", is_secret=True)
    BoardMemberFactory(board=secret_board, user=bram)
    pin = PinFactory(board=secret_board, title="Hidden cake plan")
    conversation = send(ada, [bram], pin=pin).conversation
    pinboard_services.board_member_remove(board=secret_board, user=bram)

    response = client_for(bram).get(INBOX)

    assert "Ada sent a pin" in row_html(response, conversation)
    assert "Hidden cake plan" not in response.content.decode()
    assert "Surprise party" not in response.content.decode()
    # The owner still sees it with its title.
    assert "You sent a pin: Hidden cake plan" in row_html(client_for(ada).get(INBOX), conversation)


def test_secret_board_the_viewer_cannot_see_is_previewed_without_its_name(
    client_for, ada_bram_chen
):
    ada, bram, _ = ada_bram_chen
    board = BoardFactory(owner=ada, name="Gift ideas")
    conversation = send(ada, [bram], board=board).conversation
    pinboard_services.board_update(
        board=board, editor=board.owner, name=board.name, description="", is_secret=True
    )

    response = client_for(bram).get(INBOX)

    assert "Ada sent a board" in row_html(response, conversation)
    assert "Gift ideas" not in response.content.decode()


def test_deleted_pin_preview_says_it_is_no_longer_available(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    pin = PinFactory(board=BoardFactory(owner=ada), title="Blue sofa")
    conversation = send(ada, [bram], pin=pin).conversation
    pinboard_services.pin_delete(pin=pin)

    row = row_html(client_for(bram).get(INBOX), conversation)

    assert "Ada sent a pin that&#x27;s no longer available" in row
    assert "Blue sofa" not in row


def test_row_title_is_the_group_name_when_set_else_the_other_people(client_for, db):
    ada, bram, chen, dana, emil = make_people("Ada", "Bram", "Chen", "Dana", "Emil")
    pair = send(ada, [bram], "hi").conversation
    group = send(ada, [bram, chen, dana, emil], "hello all").conversation
    named = send(ada, [bram, chen], "plans").conversation
    services.conversation_rename(conversation=named, by=ada, name="Weekend trip")

    ada_inbox = client_for(ada).get(INBOX)
    emil_inbox = client_for(emil).get(INBOX)

    assert ">Bram</" in row_html(ada_inbox, pair)
    assert "Bram, Chen and 2 others" in row_html(ada_inbox, group)
    assert "Ada, Bram and 2 others" in row_html(emil_inbox, group)
    assert "Weekend trip" in row_html(ada_inbox, named)
    assert "Bram and Chen" not in row_html(ada_inbox, named)


@pytest.mark.parametrize(
    ("names", "title"),
    [
        ([], "Only you"),
        (["Ada"], "Ada"),
        (["Ada", "Bram"], "Ada and Bram"),
        (["Ada", "Bram", "Chen"], "Ada, Bram and Chen"),
        (["Ada", "Bram", "Chen", "Dana"], "Ada, Bram and 2 others"),
    ],
)
def test_people_title_names_two_then_counts_the_rest(names, title):
    people = [UserFactory.build(username=name.lower(), display_name=name) for name in names]
    assert people_title(people) == title


def test_row_shows_unread_count_and_a_muted_conversation_shows_none(client_for, ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    loud = send(ada, [bram], "one").conversation
    send(ada, [bram], "two")
    quiet = send(chen, [bram], "psst").conversation
    send(chen, [bram], "psst again")
    services.conversation_set_level(conversation=quiet, user=bram, level="none")

    response = client_for(bram).get(INBOX)

    loud_row = row_html(response, loud)
    assert 'class="unread-badge">2<span class="visually-hidden"> unread' in loud_row
    quiet_row = row_html(response, quiet)
    assert "unread-badge" not in quiet_row
    assert "Muted" in quiet_row
    # The sender has read their own messages.
    assert "unread-badge" not in row_html(client_for(ada).get(INBOX), loud)


def test_row_has_a_relative_time(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    message = send(ada, [bram], "hi")

    row = row_html(client_for(bram).get(INBOX), message.conversation)

    assert f'<time datetime="{message.created_at.isoformat()}">just now</time>' in row


def test_relative_time_reads_naturally():
    now = timezone.now().replace(month=6, day=15, hour=12)
    assert relative_time(now - timedelta(seconds=20), now) == "just now"
    assert relative_time(now - timedelta(minutes=5), now) == "5 min"
    assert relative_time(now - timedelta(hours=3), now) == "3 h"
    assert relative_time(now - timedelta(days=2), now) == "2 d"
    assert relative_time(now - timedelta(days=30), now) == "16 May"
    assert relative_time(now - timedelta(days=400), now).endswith(str(now.year - 1))


def test_row_links_to_the_conversation(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    conversation = send(ada, [bram], "hi").conversation

    row = row_html(client_for(bram).get(INBOX), conversation)

    assert f'href="/messages/{conversation.pk}/"' in row


def test_people_who_left_no_longer_see_the_conversation(client_for, ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    conversation = send(ada, [bram, chen], "hi both").conversation
    services.conversation_leave(conversation=conversation, user=chen)

    assert (
        f'id="conversation-{conversation.pk}"' not in client_for(chen).get(INBOX).content.decode()
    )
    assert f'id="conversation-{conversation.pk}"' in client_for(bram).get(INBOX).content.decode()


def test_strangers_see_only_their_own_conversations(client_for, ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    theirs = send(ada, [bram], "private words").conversation

    response = client_for(chen).get(INBOX)

    html = response.content.decode()
    assert f'id="conversation-{theirs.pk}"' not in html
    assert "private words" not in html
    assert "No messages yet." in html


def test_empty_inbox_explains_how_to_send_a_pin(client_for, user):
    response = client_for(user).get(INBOX)

    assert "No messages yet." in response.content.decode()
    assert "choose <strong>Send</strong>" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- Pages -------------------------------------------------------------------------------


def make_conversation(*people, name="", text="hi", at=None, sender=None):
    """A conversation with these people and one text message, written directly (fast enough
    for dozens); `at` sets its latest activity."""
    conversation = Conversation.objects.create(name=name, created_by=people[0])
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user=person) for person in people]
    )
    message = Message.objects.create(
        conversation=conversation, sender=sender or people[0], text=text
    )
    at = at or message.created_at
    Conversation.objects.filter(pk=conversation.pk).update(last_message=message, last_message_at=at)
    conversation.refresh_from_db()
    return conversation


def test_inbox_pages_by_cursor_without_offset(client_for, ada_bram_chen, htmx):
    ada, bram, _ = ada_bram_chen
    start = timezone.now() - timedelta(days=1)
    conversations = [
        make_conversation(ada, bram, text=f"message {n}", at=start + timedelta(minutes=n))
        for n in range(PAGE_SIZE + 5)
    ]
    newest_first = conversations[::-1]
    client = client_for(bram)

    first = client.get(INBOX)
    first_html = first.content.decode()
    assert [c for c in newest_first if f'id="conversation-{c.pk}"' in first_html] == newest_first[
        :PAGE_SIZE
    ]
    cursor = first.context["next_url"].split("after=")[1]
    assert f'hx-get="/messages/?after={cursor}"' in first_html
    assert 'hx-trigger="revealed"' in first_html

    with CaptureQueriesContext(connection) as queries:
        second = client.get(INBOX, {"after": cursor}, **htmx)
    second_html = second.content.decode()
    assert "<html" not in second_html
    assert [c for c in newest_first if f'id="conversation-{c.pk}"' in second_html] == newest_first[
        PAGE_SIZE:
    ]
    assert "More conversations" not in second_html
    assert not any("OFFSET" in query["sql"] for query in queries.captured_queries)


def test_conversations_with_the_same_latest_time_are_neither_skipped_nor_repeated(
    client_for, ada_bram_chen
):
    ada, bram, _ = ada_bram_chen
    same_moment = timezone.now() - timedelta(hours=1)
    conversations = [make_conversation(ada, bram, at=same_moment) for _ in range(PAGE_SIZE + 3)]
    client = client_for(bram)

    first = client.get(INBOX)
    second = client.get(first.context["next_url"])

    shown = [c.pk for c in first.context["conversations"] + second.context["conversations"]]
    assert shown == sorted((c.pk for c in conversations), reverse=True)


def test_a_cursor_that_is_not_one_of_ours_starts_from_the_newest(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    conversation = send(ada, [bram], "hi").conversation

    for junk in ["abc", "1-2-3", "-x", "99999999999999999999999-1", ""]:
        response = client_for(bram).get(INBOX, {"after": junk})
        assert response.status_code == 200
        assert f'id="conversation-{conversation.pk}"' in response.content.decode()


def test_cursor_round_trips_exactly():
    moment = timezone.now()
    assert Cursor.decode(Cursor(last_message_at=moment, pk=42).encode()) == Cursor(moment, 42)
    assert Cursor.decode(Cursor(last_message_at=None, pk=7).encode()) == Cursor(None, 7)


# --- Quick reply -------------------------------------------------------------------------


@pytest.fixture
def chat(ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    return send(ada, [bram, chen], "dinner at 8?").conversation


def test_quick_reply_with_htmx_swaps_in_the_updated_row(client_for, chat, ada_bram_chen, htmx):
    _, bram, _ = ada_bram_chen

    response = client_for(bram).post(
        quick_reply_url(chat),
        {"text": "see you at 8", "idempotency_key": str(uuid.uuid4())},
        **htmx,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li class="inbox-row" id="conversation-{chat.pk}"')
    assert "You: see you at 8" in html
    assert 'name="text" value=""' in html
    assert "unread-badge" not in html
    assert "toast" in response["HX-Trigger"]
    assert (
        '<span id="nav-unread" hx-swap-oob="true"><span class="visually-hidden">Messages</span>'
    ) in html
    reply = Message.objects.filter(conversation=chat).latest("id")
    assert (reply.sender, reply.text) == (bram, "see you at 8")


def test_quick_reply_without_javascript_goes_back_to_the_inbox(client_for, chat, ada_bram_chen):
    _, bram, _ = ada_bram_chen
    client = client_for(bram)

    response = client.post(
        quick_reply_url(chat), {"text": "see you at 8", "idempotency_key": str(uuid.uuid4())}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/messages/#conversation-{chat.pk}"
    inbox = client.get(INBOX)
    assert "Reply sent to Ada and Chen." in inbox.content.decode()
    assert "You: see you at 8" in row_html(inbox, chat)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("   ", "Write a reply first."),
        ("x" * 2001, "Messages can be up to 2,000 characters; this one has 2,001."),
    ],
)
def test_refused_quick_reply_shows_why_and_keeps_the_text(
    client_for, chat, ada_bram_chen, text, error, htmx
):
    _, bram, _ = ada_bram_chen
    client = client_for(bram)
    key = str(uuid.uuid4())

    with_htmx = client.post(
        quick_reply_url(chat),
        {"text": text, "idempotency_key": key},
        **htmx,
    )
    without = client.post(quick_reply_url(chat), {"text": text, "idempotency_key": key})

    assert with_htmx.status_code == 200
    assert without.status_code == 400
    for response in (with_htmx, without):
        html = response.content.decode()
        assert error in html
        assert f'value="{text}"' in html
        assert 'aria-invalid="true"' in html
        assert f'name="idempotency_key" value="{key}"' in html
    assert "<html" not in with_htmx.content.decode()
    assert Message.objects.filter(conversation=chat).count() == 1


def test_double_submitted_quick_reply_sends_one_message(client_for, chat, ada_bram_chen, htmx):
    _, bram, _ = ada_bram_chen
    client = client_for(bram)
    data = {"text": "on my way", "idempotency_key": str(uuid.uuid4())}

    client.post(quick_reply_url(chat), data, **htmx)
    client.post(quick_reply_url(chat), data, **htmx)

    assert Message.objects.filter(conversation=chat, text="on my way").count() == 1


def test_only_people_in_the_conversation_can_quick_reply(client_for, chat, ada_bram_chen):
    _, _, chen = ada_bram_chen
    stranger = UserFactory()
    services.conversation_leave(conversation=chat, user=chen)
    data = {"text": "let me in", "idempotency_key": str(uuid.uuid4())}

    assert client_for(stranger).post(quick_reply_url(chat), data).status_code == 404
    assert client_for(chen).post(quick_reply_url(chat), data).status_code == 404
    assert (
        client_for(stranger)
        .post(reverse("conversation_quick_reply", args=[999999]), data)
        .status_code
        == 404
    )
    assert not Message.objects.filter(text="let me in").exists()


def test_quick_reply_only_accepts_posts(client_for, chat, ada_bram_chen):
    _, bram, _ = ada_bram_chen
    assert client_for(bram).get(quick_reply_url(chat)).status_code == 405


def test_quick_reply_form_is_a_real_form_with_a_labelled_box(client_for, chat, ada_bram_chen):
    _, bram, _ = ada_bram_chen

    row = row_html(client_for(bram).get(INBOX), chat)

    assert f'method="post" action="{quick_reply_url(chat)}"' in row
    assert f'hx-post="{quick_reply_url(chat)}"' in row
    assert (
        f'<label class="visually-hidden" for="reply-{chat.pk}">Reply to Ada and Chen</label>' in row
    )
    assert 'name="csrfmiddlewaretoken"' in row
    key = row.split('name="idempotency_key" value="')[1].split('"')[0]
    assert uuid.UUID(key)


# --- Nav badge ---------------------------------------------------------------------------


def unread_total_for(person):
    request = RequestFactory().get("/")
    request.user = person
    return unread(request)["unread_total"]


def test_nav_badge_total_is_one_query_and_only_when_used(django_assert_num_queries, ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    send(ada, [bram], "one")
    send(ada, [bram], "two")
    send(chen, [bram], "three")

    with django_assert_num_queries(0):
        total = unread_total_for(bram)
    with django_assert_num_queries(1):
        assert str(total) == "3"
        assert total > 0


def test_nav_badge_leaves_out_muted_and_left_conversations(ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    send(ada, [bram], "counted")
    muted = send(chen, [bram], "muted").conversation
    left = send(ada, [bram, chen], "left").conversation
    services.conversation_set_level(conversation=muted, user=bram, level="none")
    services.conversation_leave(conversation=left, user=bram)

    assert unread_total_for(bram) == 1


def test_a_mentions_only_conversation_adds_only_its_unread_mentions_to_the_badge(ada_bram_chen):
    ada, bram, chen = ada_bram_chen
    send(ada, [bram], "counted")
    group = send(chen, [bram, ada], "not counted").conversation
    services.conversation_set_level(conversation=group, user=bram, level="mentions")
    assert unread_total_for(bram) == 1

    Participant.objects.filter(conversation=group, user=bram).update(unread_mentions=1)
    assert unread_total_for(bram) == 2


def test_anonymous_visitors_have_no_unread_total_and_pay_no_query(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        assert unread_total_for(AnonymousUser()) == 0


def test_nav_shows_the_unread_badge_on_every_page(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    send(ada, [bram], "one")
    send(ada, [bram], "two")

    bram_home = client_for(bram).get("/").content.decode()
    ada_home = client_for(ada).get("/").content.decode()

    assert (
        '<span id="nav-unread"><span class="visually-hidden">Messages, 2 unread</span>'
        '<span class="nav-badge" aria-hidden="true">2</span></span>'
    ) in bram_home
    assert '<span id="nav-unread"><span class="visually-hidden">Messages</span></span>' in ada_home


def test_nav_badge_caps_what_it_shows_at_99(client_for, ada_bram_chen):
    ada, bram, _ = ada_bram_chen
    conversation = send(ada, [bram], "one").conversation
    Participant.objects.filter(conversation=conversation, user=bram).update(unread_count=150)

    home = client_for(bram).get("/").content.decode()

    assert "Messages, 150 unread" in home
    assert '<span class="nav-badge" aria-hidden="true">99+</span>' in home


# --- Fixed query counts ------------------------------------------------------------------


def populate_inbox(viewer, conversations: int, people) -> None:
    """Conversations of 2 to 10 people, with the viewer in each, ending on every kind of
    message (text, pin, secret pin, board, profile, deleted)."""
    owner = people[0]
    pins = [PinFactory(board=BoardFactory(owner=owner)) for _ in range(2)]
    secret_pin = PinFactory(board=BoardFactory(owner=owner, is_secret=True))
    board = BoardFactory(owner=owner)
    kinds = [
        {"pin": pins[0]},
        {"board": board},
        {"profile": owner},
        {"pin": secret_pin},
        {"text": "plain words"},
        {"deleted": True},
        {"pin": pins[1]},
    ]
    for n in range(conversations):
        size = 1 + n % 9  # 1 to 9 others
        others = [people[(n + i) % len(people)] for i in range(size)]
        conversation = make_conversation(viewer, *others, name="Named" if n % 4 == 0 else "")
        kind = kinds[n % len(kinds)]
        message = Message.objects.create(
            conversation=conversation,
            sender=others[0],
            kind=next((k for k in ("pin", "board", "profile") if k in kind), "text"),
            text=kind.get("text", ""),
            pin=kind.get("pin"),
            board=kind.get("board"),
            profile=kind.get("profile"),
            deleted_at=timezone.now() if "deleted" in kind else None,
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message=message, last_message_at=message.created_at
        )
        Participant.objects.filter(conversation=conversation, user=viewer).update(
            unread_count=n % 3, level="none" if n % 5 == 0 else "all"
        )


def count_inbox_queries(client) -> int:
    client.get(INBOX)  # warm up: the session and anything cached per process
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INBOX)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("conversations", [3, 25])
def test_inbox_costs_a_fixed_number_of_queries(client_for, conversations, db):
    viewer = UserFactory()
    people = [UserFactory() for _ in range(12)]
    populate_inbox(viewer, conversations, people)

    # session, user, conversations, last messages, people, their cards (messaging/cards.py: one
    # query each for pins, boards and profiles), nav badge, the Requests tab's count (was 12)
    assert count_inbox_queries(client_for(viewer)) == 10
