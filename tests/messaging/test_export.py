"""The data export (messaging/export/archive.py) and the "Your data" settings page."""

import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.services import user_block, user_delete, user_follow, user_update_profile
from messaging.export.archive import write_user_export
from messaging.services import (
    Attachment,
    conversation_leave,
    conversation_send,
    message_delete,
    message_send,
)
from pinboard.services import board_update, comment_create, pin_like, pin_save
from tests.factories import (
    BoardFactory,
    BoardFollowFactory,
    BoardMemberFactory,
    PinFactory,
    UserFactory,
    make_normalized_image,
)

# The "Your data" page costs what every signed-in settings page does (session, user, the
# header's unread badge), whatever the person has: the export runs only on POST.
PAGE_QUERIES = 3

EXPECTED_FILES = {
    "README.txt",
    "profile.json",
    "boards.json",
    "pins.json",
    "likes.json",
    "comments.json",
    "following.json",
    "conversations.json",
}


def export(user) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    write_user_export(user=user, file=buffer)
    buffer.seek(0)
    return zipfile.ZipFile(buffer)


def read_json(archive: zipfile.ZipFile, name: str):
    return json.loads(archive.read(name).decode("utf-8"))


def everything(archive: zipfile.ZipFile) -> str:
    return "\n".join(
        archive.read(name).decode("utf-8")
        for name in archive.namelist()
        if not name.startswith("images/")
    )


@pytest.fixture
def world(db):
    """Alice's things, Bob's public and secret things, and conversations around them."""
    alice = UserFactory(username="alice", display_name="Alice Archer")
    bob = UserFactory(username="bob", display_name="Bob Baker")
    carol = UserFactory(username="carol", display_name="Carol Crane")
    user_update_profile(
        user=alice, display_name="Alice Archer", bio="Plants.", avatar=make_normalized_image()
    )
    kitchen = BoardFactory(owner=alice, name="Kitchen ideas")
    hideaway = BoardFactory(owner=alice, name="Hideaway", is_secret=True)
    fern = PinFactory(board=kitchen, title="Maidenhair fern", description="Loves steam")
    PinFactory(board=hideaway, title="Gift for Bob")

    bobs_public = BoardFactory(owner=bob, name="Bob's garden")
    rose = PinFactory(board=bobs_public, title="Climbing rose")
    bobs_secret = BoardFactory(owner=bob, name="Bob's surprise party", is_secret=True)
    PinFactory(board=bobs_secret, title="Secret cake recipe")
    collab = BoardFactory(owner=bob, name="Shared flat")
    BoardMemberFactory(board=collab, user=alice)
    PinFactory(board=collab, owner=alice, title="Alice's lamp on Bob's board")

    saved = pin_save(user=alice, pin=rose, board=kitchen)  # shares Bob's image file
    pin_like(user=alice, pin=rose)
    comment_create(author=alice, pin=rose, text="Which variety is this?")
    comment_create(author=bob, pin=rose, text="Bob's own comment")
    user_follow(follower=alice, followee=bob)
    BoardFollowFactory(user=alice, board=bobs_public)

    # Liked while public, then made secret: no longer Alice's to see.
    turned = BoardFactory(owner=bob, name="Bob's old board")
    turned_pin = PinFactory(board=turned, title="Turned secret pin")
    pin_like(user=alice, pin=turned_pin)
    comment_create(author=alice, pin=turned_pin, text="Comment on a pin gone secret")
    board_update(
        board=turned, editor=turned.owner, name=turned.name, description="", is_secret=True
    )

    talk = conversation_send(sender=alice, recipients=[bob], text="Hi Bob, about the roses")
    message_send(sender=bob, conversation=talk.conversation, text="Happy to help")
    message_send(
        sender=alice, conversation=talk.conversation, text="", attachment=Attachment(pin=fern)
    )
    gone = message_send(sender=alice, conversation=talk.conversation, text="Oops, wrong")
    message_delete(message=gone, user=alice)

    group = conversation_send(sender=carol, recipients=[alice, bob], text="Group hello")
    message_send(sender=alice, conversation=group.conversation, text="Before I leave")
    conversation_leave(conversation=group.conversation, user=alice)
    message_send(sender=bob, conversation=group.conversation, text="After Alice left")

    carol_to_alice = conversation_send(sender=carol, recipients=[alice], text="From Carol")

    conversation_send(sender=bob, recipients=[carol], text="Bob and Carol only")
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "fern": fern,
        "saved": saved,
        "rose": rose,
        "talk": talk.conversation,
        "group": group.conversation,
        "carol_to_alice": carol_to_alice.conversation,
    }


@pytest.mark.django_db
def test_export_holds_every_file_and_the_persons_own_data(world):
    alice = world["alice"]
    archive = export(alice)

    assert set(archive.namelist()) >= EXPECTED_FILES
    assert archive.testzip() is None
    readme = archive.read("README.txt").decode()
    assert "conversations.json" in readme
    assert "alice" in readme

    profile = read_json(archive, "profile.json")
    assert profile["username"] == "alice"
    assert profile["display_name"] == "Alice Archer"
    assert profile["bio"] == "Plants."
    assert profile["email_addresses"] == [
        {"email": "alice@example.com", "verified": True, "primary": True}
    ]
    assert Image.open(io.BytesIO(archive.read(profile["avatar"]))).size == (300, 400)

    boards = {board["name"]: board for board in read_json(archive, "boards.json")}
    assert set(boards) == {"Kitchen ideas", "Hideaway", "Shared flat"}
    assert boards["Hideaway"]["secret"] is True
    assert boards["Shared flat"]["role"] == "collaborator"
    assert boards["Shared flat"]["collaborators"] == ["alice"]

    pins = {pin["title"]: pin for pin in read_json(archive, "pins.json")}
    assert set(pins) == {
        "Maidenhair fern",
        "Gift for Bob",
        "Alice's lamp on Bob's board",
        "Climbing rose",  # her save of Bob's pin
    }
    fern = pins["Maidenhair fern"]
    assert fern["description"] == "Loves steam"
    assert fern["board"] == {"id": world["fern"].board_id, "name": "Kitchen ideas"}
    original = Image.open(io.BytesIO(archive.read(fern["image"])))
    assert original.size == (fern["width"], fern["height"]) == (300, 400)
    assert original.format == "WEBP"
    assert pins["Climbing rose"]["saved_from_pin"] == world["rose"].pk
    # Each image file once, whatever number of pins share it.
    images = [name for name in archive.namelist() if name.startswith("images/pin-image-")]
    assert sorted(images) == sorted({pin["image"] for pin in pins.values()})

    assert [like["pin"]["title"] for like in read_json(archive, "likes.json")] == ["Climbing rose"]
    assert [comment["text"] for comment in read_json(archive, "comments.json")] == [
        "Which variety is this?"
    ]
    following = read_json(archive, "following.json")
    assert [person["username"] for person in following["people"]] == ["bob"]
    assert [board["name"] for board in following["boards"]] == ["Bob's garden"]


@pytest.mark.django_db
def test_export_holds_the_persons_conversations_as_they_saw_them(world):
    alice, bob = world["alice"], world["bob"]
    user_delete(user=world["carol"])  # her messages stay, signed "deleted user"

    conversations = {item["id"]: item for item in read_json(export(alice), "conversations.json")}

    assert set(conversations) == {
        world["talk"].pk,
        world["group"].pk,
        world["carol_to_alice"].pk,
    }
    talk = conversations[world["talk"].pk]
    assert sorted(talk["participants"]) == ["alice", "bob"]
    assert [(m["sender"], m["text"]) for m in talk["messages"][:2]] == [
        ("alice", "Hi Bob, about the roses"),
        ("bob", "Happy to help"),
    ]
    card = talk["messages"][2]
    assert card["kind"] == "pin"
    assert card["pin"]["title"] == "Maidenhair fern"
    assert talk["messages"][3]["deleted"] is True
    assert talk["messages"][3]["text"] == ""

    group = conversations[world["group"].pk]
    assert group["you_left_at"] is not None
    assert [(m["sender"], m["text"]) for m in group["messages"]] == [
        ("deleted user", "Group hello"),
        ("alice", "Before I leave"),
    ]
    assert bob.username in group["participants"]


@pytest.mark.django_db
def test_export_holds_nothing_the_person_may_not_see(world):
    alice = world["alice"]
    user_block(blocker=alice, blocked=world["carol"])  # hides their one-to-one conversation
    text = everything(export(alice))

    for secret in (
        "Bob's surprise party",
        "Secret cake recipe",
        "Turned secret pin",
        "Comment on a pin gone secret",
        "Bob's old board",
        "After Alice left",  # sent after she left the group
        "Bob and Carol only",  # a conversation she is not in
        "Bob's own comment",
        "From Carol",  # hidden by her block
    ):
        assert secret not in text, secret
    assert "Maidenhair fern" in text
    assert "Before I leave" in text
    assert "carol" in read_json(export(alice), "following.json")["blocked"][0]["username"]


@pytest.mark.django_db
def test_a_card_of_a_pin_gone_secret_shows_no_title(world):
    bob, carol = world["bob"], world["carol"]
    board = BoardFactory(owner=bob, name="Soon secret")
    pin = PinFactory(board=board, title="Hush hush")
    sent = conversation_send(sender=bob, recipients=[carol], attachment=Attachment(pin=pin))
    board_update(board=board, editor=board.owner, name=board.name, description="", is_secret=True)

    conversations = read_json(export(carol), "conversations.json")
    (card,) = [m for c in conversations for m in c["messages"] if m["id"] == sent.pk]
    assert card["pin"] == "private or no longer available"
    assert "Hush hush" not in everything(export(carol))


# --- The "Your data" page ----------------------------------------------------------------------


def test_your_data_page_needs_signing_in(client, db):
    url = reverse("settings_data")
    assert url == "/settings/data/"
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_your_data_page_offers_the_download(client_for, user):
    page = client_for(user).get(reverse("settings_data"))

    assert page.status_code == 200
    html = page.text
    assert '<form method="post" action="/settings/data/">' in html
    assert "Download my data</button>" in html
    assert 'href="/settings/data/" aria-current="page">Your data</a>' in html


@pytest.mark.django_db
def test_download_my_data_returns_the_zip(world, client_for):
    alice = world["alice"]
    response = client_for(alice).post(reverse("settings_data"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    filename = f"pinboard-alice-{timezone.now():%Y-%m-%d}.zip"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert set(archive.namelist()) >= EXPECTED_FILES
    titles = {pin["title"] for pin in read_json(archive, "pins.json")}
    assert "Maidenhair fern" in titles
    assert "Secret cake recipe" not in everything(archive)


@pytest.mark.parametrize("boards", [1, 6])
@pytest.mark.django_db
def test_your_data_page_costs_a_fixed_number_of_queries(
    boards, client_for, user, django_assert_num_queries
):
    for _ in range(boards):
        PinFactory(board=BoardFactory(owner=user))
    client = client_for(user)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(reverse("settings_data")).status_code == 200
