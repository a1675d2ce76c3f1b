"""`manage.py seed_demo` (demo data at any size) and `manage.py bench_pages`."""

import io
from collections import defaultdict

import pytest
from allauth.account.models import EmailAddress
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import Follow, User
from messaging.inbox import unread_total
from messaging.management import demo
from messaging.management.commands.seed_demo import Command as SeedDemo
from messaging.management.demo import pictures
from messaging.models import Conversation, Event, Message, Participant
from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin, PinImage

COUNTED = (
    User,
    EmailAddress,
    Board,
    BoardMember,
    Pin,
    PinImage,
    Like,
    Comment,
    Follow,
    BoardFollow,
    Conversation,
    Participant,
    Message,
    Event,
)


@pytest.fixture(autouse=True)
def small_pictures(monkeypatch):
    """Small pictures: the same pipeline (re-encoding, three renditions), a fraction of the time."""
    monkeypatch.setattr(pictures, "WIDTH", 96)


def seed_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def signs_in(client, username: str) -> bool:
    client.post(reverse("account_login"), {"login": username, "password": "pinboard-demo"})
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_default_run_creates_the_showcase_once(client):
    output = seed_demo()

    assert "Password: pinboard-demo" in output
    people = {user.username: user for user in User.objects.exclude(username="moderator")}
    assert sorted(people) == ["demo1", "demo2", "demo3", "demo4", "demo5"]
    assert people["demo1"].display_name == "Ada Moreau"
    assert all(user.bio for user in people.values())
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 6
    assert signs_in(client, "demo4")

    for user in people.values():
        assert 2 <= user.boards.count() <= 3
    demo1_boards = Board.objects.filter(owner=people["demo1"])
    secret = demo1_boards.get(is_secret=True)
    group = demo1_boards.get(memberships__status=BoardMember.Status.ACCEPTED)
    assert group.memberships.get(status=BoardMember.Status.ACCEPTED).user == people["demo2"]
    assert group.pins.filter(owner=people["demo2"]).exists()  # the collaborator pins too
    assert secret.pins.exists()
    assert not Pin.objects.visible_to(people["demo3"]).filter(board=secret).exists()

    assert Pin.objects.count() == demo.SHOWCASE_PINS
    assert Pin.objects.filter(title="Blue velvet sofa", saved_from=None).exists()
    assert Pin.objects.exclude(saved_from=None).exists()
    assert Like.objects.exists()
    assert Comment.objects.exists()
    assert Follow.objects.filter(follower=people["demo1"]).exists()
    assert BoardFollow.objects.exists()
    # A palette of real, re-encoded images with their renditions, shared between pins.
    images = list(PinImage.objects.all())
    assert 1 < len(images) < Pin.objects.count()
    assert len({(image.width, image.height) for image in images}) >= 5  # varied aspect ratios
    for image in images:
        assert default_storage.exists(image.file.name)
        assert default_storage.exists(image.grid.name)

    before = counts()
    again = seed_demo()
    assert counts() == before
    assert "Nothing to create" in again


@pytest.mark.django_db
def test_a_staff_account_opens_the_admin_on_demo_data(client):
    output = seed_demo()

    assert "Staff account for /admin/: moderator" in output
    moderator = User.objects.get(username="moderator")
    assert moderator.is_staff
    assert moderator.boards.count() == 0
    assert signs_in(client, "moderator")
    assert client.get("/admin/").status_code == 200
    assert not User.objects.filter(username="demo4", is_staff=True).exists()


@pytest.mark.django_db
def test_scaled_run_creates_exactly_what_it_asks_for(client):
    output = seed_demo("--users", "12", "--pins", "300", "--images", "6")

    usernames = set(demo.demo_users().values_list("username", flat=True))
    assert usernames == {f"demo{n}" for n in range(1, 13)}
    assert EmailAddress.objects.filter(verified=True, user__in=demo.demo_users()).count() == 12
    assert signs_in(client, "demo12")  # a generated user, created in bulk
    for user in demo.demo_users().exclude(username__in=[f"demo{n}" for n in range(1, 6)]):
        assert user.boards.count() == 3
        assert Follow.objects.filter(follower=user).count() >= 5
    assert Pin.objects.count() == 300
    assert PinImage.objects.count() == 6
    assert "300 pins" in output

    # Oldest first: ids grow with time, as the feed's keyset pagination expects.
    times = list(Pin.objects.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times)
    # Saves come from earlier public pins; likes are on pins their likers may see.
    for save in Pin.objects.exclude(saved_from=None).select_related("saved_from__board"):
        assert save.saved_from.pk < save.pk
        assert not save.saved_from.board.is_secret
    for like in Like.objects.select_related("user", "pin"):
        assert Pin.objects.visible_to(like.user).filter(pk=like.pin_id).exists()

    before = counts()
    seed_demo("--users", "12", "--pins", "300", "--images", "6")
    assert counts() == before

    seed_demo("--users", "12", "--pins", "320", "--images", "6")  # tops up
    assert Pin.objects.count() == 320
    assert demo.demo_users().count() == 12


def assert_conversations_consistent() -> None:
    """What the services keep up to date holds for every conversation, however it was made:
    the last message, the read markers and unread counts; ids grow with time; cards and
    replies are as the services would have made them."""
    messages = defaultdict(list)
    for message in Message.objects.order_by("id"):
        messages[message.conversation_id].append(message)
    for conversation in Conversation.objects.prefetch_related("participants__user"):
        rows = messages[conversation.pk]
        assert rows, "every conversation has a message"
        assert conversation.last_message_id == rows[-1].pk
        assert conversation.last_message_at == rows[-1].created_at
        assert [m.created_at for m in rows] == sorted(m.created_at for m in rows)
        people = [p.user for p in conversation.participants.all()]
        assert 2 <= len(people) <= 10
        for participant in conversation.participants.all():
            own = [m.pk for m in rows if m.sender_id == participant.user_id]
            assert participant.last_read_message_id >= max(own, default=0)
            after = [m for m in rows if m.pk > participant.last_read_message_id]
            assert participant.unread_count == len(after)
            assert all(m.sender_id != participant.user_id for m in after)
        for message in rows:
            assert message.sender in people
            if message.reply_to_id:
                assert message.reply_to.conversation_id == conversation.pk
                assert message.reply_to_id < message.pk
            if message.is_deleted:
                assert not message.text
                assert (message.pin_id, message.board_id, message.profile_id) == (None, None, None)
            elif message.kind == Message.Kind.PIN:
                for person in people:  # cards are never refused: everyone may see them
                    assert Pin.objects.visible_to(person).filter(pk=message.pin_id).exists()
            elif message.kind == Message.Kind.BOARD:
                for person in people:
                    assert Board.objects.visible_to(person).filter(pk=message.board_id).exists()
            elif message.kind == Message.Kind.PROFILE:
                assert message.profile_id is not None
            else:
                assert message.text
                assert (message.pin_id, message.board_id, message.profile_id) == (None, None, None)


@pytest.mark.django_db
def test_default_run_starts_conversations_with_unread_messages_for_demo1(client_for):
    seed_demo()

    people = {user.username: user for user in demo.demo_users()}
    assert Conversation.objects.count() == demo.SHOWCASE_CONVERSATIONS == 3
    assert Message.objects.count() == demo.SHOWCASE_MESSAGES
    # Sent through the services, each with its idempotency key.
    assert not Message.objects.filter(idempotency_key=None).exists()
    assert_conversations_consistent()

    note = Message.objects.get(text="Would this work in the hallway?")
    assert note.sender == people["demo1"]
    assert note.kind == Message.Kind.PIN
    assert set(note.conversation.participants.values_list("user__username", flat=True)) == {
        "demo1",
        "demo2",
        "demo3",
    }
    assert note.replies.filter(sender=people["demo2"]).exists()  # a reply to the pin card
    assert Message.objects.filter(kind=Message.Kind.BOARD).exists()
    assert Message.objects.filter(kind=Message.Kind.PROFILE, profile=people["demo5"]).exists()
    flat = Conversation.objects.get(name="Flat 3B")
    assert flat.participants.count() == 3

    assert unread_total(people["demo1"]) > 0  # the nav badge shows on first login
    demo1 = client_for(people["demo1"])
    inbox = demo1.get(reverse("inbox"))
    assert "Flat 3B" in inbox.text
    assert "Bram Okafor sent a pin: Brown butter blondies" in inbox.text
    page = demo1.get(reverse("conversation", kwargs={"pk": note.conversation_id}))
    assert page.text.count("data-message-id=") == 6
    assert unread_total(people["demo1"]) > 0  # one conversation read, two still unread

    before = counts()
    assert "Nothing to create" in seed_demo()
    assert counts() == before


@pytest.mark.django_db
def test_scaled_run_creates_exactly_the_conversations_and_messages_asked_for():
    args = ("--users", "12", "--pins", "150", "--images", "3", "--conversations", "20")
    output = seed_demo(*args, "--messages", "400", "--big-conversation-messages", "150")

    assert "20 conversations and 400 messages" in output
    assert Conversation.objects.count() == 20
    assert Message.objects.count() == 400
    big = Conversation.objects.get(name=demo.BIG_THREAD_NAME)
    assert big.messages.count() == 150
    assert {p.user.username for p in big.participants.select_related("user")} == {
        "demo1",
        "demo2",
    }
    # Different people in each conversation, as the services would have it.
    groups = defaultdict(set)
    for conversation_id, user_id in Participant.objects.values_list("conversation", "user"):
        groups[conversation_id].add(user_id)
    assert len({frozenset(group) for group in groups.values()}) == 20
    generated = Conversation.objects.exclude(messages__idempotency_key__isnull=False)
    assert generated.count() == 17
    assert not Event.objects.filter(conversation__in=generated).exists()  # bulk: no events
    assert Message.objects.exclude(reply_to=None).exists()
    assert Message.objects.filter(kind=Message.Kind.PIN, idempotency_key=None).exists()
    assert_conversations_consistent()
    assert unread_total(User.objects.get(username="demo1")) > 0

    before = counts()
    assert "Nothing to create" in seed_demo(
        *args, "--messages", "400", "--big-conversation-messages", "150"
    )
    assert counts() == before

    # Topped up: more messages into the generated conversations, then into the big thread,
    # then more conversations.
    seed_demo(*args, "--messages", "450", "--big-conversation-messages", "150")
    assert Message.objects.count() == 450
    assert big.messages.count() == 150
    seed_demo(*args, "--messages", "470", "--big-conversation-messages", "170")
    assert big.messages.count() == 170
    assert Message.objects.count() == 470
    seed_demo(*args[:-1], "25", "--messages", "500", "--big-conversation-messages", "170")
    assert Conversation.objects.count() == 25
    assert Message.objects.count() == 500
    assert_conversations_consistent()


@pytest.mark.django_db
def test_a_smaller_run_after_a_larger_one_deletes_nothing():
    seed_demo("--users", "8", "--pins", "100", "--images", "4")
    before = counts()
    seed_demo()
    assert counts() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "3"], "--users must be at least 5"),
        (["--users", "0", "--pins", "10"], "--users must be at least 5"),
        (["--boards-per-user", "0"], "--boards-per-user must be at least 1"),
        (["--pins", "-1"], "--pins cannot be negative"),
        (["--images", "0"], "--images must be at least 1"),
        (["--conversations", "2"], "--conversations must be at least 3"),
        (["--big-conversation-messages", "-1"], "cannot be negative"),
        (
            ["--big-conversation-messages", "100", "--messages", "200"],
            "needs a conversation of its own: ask for --conversations 4",
        ),
        (["--conversations", "10", "--messages", "20"], "--messages must be at least 21"),
        (
            ["--conversations", "5", "--messages", "100", "--big-conversation-messages", "90"],
            "--messages must be at least 105",
        ),
        (["--messages", "20"], "without a conversation to go in"),
        (["--conversations", "27"], "more than 5 demo users can have: 26"),
    ],
)
@pytest.mark.django_db
def test_bad_arguments_are_refused_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args)
    assert not User.objects.exists()


def test_help_explains_the_top_up_rule():
    text = " ".join(SeedDemo().create_parser("manage.py", "seed_demo").format_help().split())
    assert "tops the demo data up" in text
    assert "--users 200 --pins 100000" in text


@pytest.mark.django_db
def test_bench_pages_prints_a_table_of_every_page():
    seed_demo(
        "--pins", "30", "--images", "2",
        "--conversations", "5", "--messages", "200", "--big-conversation-messages", "120",
    )  # fmt: skip
    out = io.StringIO()
    call_command("bench_pages", "--requests", "2", "--warmup", "0", stdout=out)
    table = out.getvalue()
    for page in ("Home, signed out", "Home, signed in", "Board", "Profile", "Pin", "Search"):
        assert f"| {page}" in table
    assert "| Page | URL | Queries | Items |" in table
    big = Conversation.objects.get(name=demo.BIG_THREAD_NAME)
    assert "| Inbox | `/messages/` |" in table
    assert f"| Conversation (120 messages) | `/messages/{big.pk}/` |" in table
    assert "| Load older (60 back, htmx) |" in table
    row = next(line for line in table.splitlines() if line.startswith("| Load older"))
    assert row.split("|")[4].strip() == "50"  # a full page of older messages


@pytest.mark.django_db
def test_bench_pages_needs_its_user():
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("bench_pages", "--user", "nobody")
