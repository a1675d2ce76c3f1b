"""The data export (messaging/export/archive.py) and the "Your data" settings page."""

import io
import json
import os
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.services import user_block, user_delete, user_follow, user_update_profile
from messaging.export.archive import write_user_export
from messaging.models import Notification, NotificationKind
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
# header's unread badge), whatever the person has: the export runs only in its task.
PAGE_QUERIES = 4  # and the latest download still kept

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


def ready_export(user):
    return Notification.objects.get(recipient=user, kind=NotificationKind.EXPORT_READY)


def download_url(notification) -> str:
    return reverse("settings_data_download", args=[notification.pk])


@pytest.mark.django_db
def test_asking_for_my_data_says_it_is_being_prepared(world, client_for):
    response = client_for(world["alice"]).post(reverse("settings_data"), follow=True)

    assert response.redirect_chain == [("/settings/data/", 302)]
    assert "We&#x27;re preparing your download; we&#x27;ll notify you when it&#x27;s ready." in (
        response.text
    )


@pytest.mark.django_db
def test_the_task_builds_the_same_zip_and_notifies_its_owner(world, client_for, settings):
    alice = world["alice"]
    client = client_for(alice)
    client.post(reverse("settings_data"))  # tasks run at once in tests (tests/conftest.py)

    notification = ready_export(alice)
    assert notification.read_at is None
    assert download_url(notification) == f"/settings/data/download/{notification.pk}/"
    stored = list(settings.EXPORT_ROOT.iterdir())
    assert [path.name for path in stored] == [notification.file]
    assert re.fullmatch(r"[0-9a-f]{32}\.zip", notification.file)  # unguessable
    assert not str(stored[0]).startswith(str(settings.MEDIA_ROOT))

    response = client.get(download_url(notification))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    filename = f"pinboard-alice-{timezone.now():%Y-%m-%d}.zip"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    direct = export(alice)
    assert sorted(archive.namelist()) == sorted(direct.namelist())
    for name in EXPECTED_FILES - {"profile.json"}:  # the profile says when it was exported
        assert archive.read(name) == direct.read(name), name
    assert "Secret cake recipe" not in everything(archive)

    page = client.get(reverse("settings_data")).text
    assert f'href="{download_url(notification)}" download>Download the zip' in page


@pytest.mark.django_db
def test_only_the_owner_can_download(world, client_for, client):
    client_for(world["alice"]).post(reverse("settings_data"))
    url = download_url(ready_export(world["alice"]))

    assert client_for(world["bob"]).get(url).status_code == 404
    assert client_for(world["bob"]).get("/settings/data/download/999999/").status_code == 404
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("account_login"))
    # Not under /media/ either: the file is outside MEDIA_ROOT.
    name = ready_export(world["alice"]).file
    assert client.get(f"/media/exports/{name}").status_code == 404
    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.django_db
def test_a_new_export_replaces_the_unread_one_and_its_file(
    world, client_for, settings, django_capture_on_commit_callbacks
):
    client = client_for(world["alice"])
    client.post(reverse("settings_data"))
    first = ready_export(world["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("settings_data"))

    second = ready_export(world["alice"])  # still one line in the bell
    assert second.pk == first.pk
    assert second.file != first.file
    assert [path.name for path in settings.EXPORT_ROOT.iterdir()] == [second.file]


@pytest.mark.django_db
def test_exports_are_deleted_after_a_week(world, client_for, settings):
    client = client_for(world["alice"])
    client.post(reverse("settings_data"))
    old = ready_export(world["alice"])
    a_week_ago = timezone.now() - timedelta(days=7, minutes=1)
    Notification.objects.filter(pk=old.pk).update(created_at=a_week_ago)
    path = settings.EXPORT_ROOT / old.file
    os.utime(path, (a_week_ago.timestamp(), a_week_ago.timestamp()))

    expired = client.get(download_url(old), follow=True)
    assert "That download is no longer kept" in expired.text

    out = io.StringIO()
    call_command("prune_exports", stdout=out)
    assert "Deleted 1 exports older than 7 days." in out.getvalue()
    assert not path.exists()
    assert not Notification.objects.filter(pk=old.pk).exists()
    assert client.get(download_url(old)).status_code == 404


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


@pytest.mark.django_db
def test_the_owner_is_emailed_when_the_download_is_ready(
    world, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    alice = world["alice"]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alice).post(reverse("settings_data"))

    [email] = [mail for mail in mailoutbox if alice.email in mail.to]
    assert "download is ready" in email.subject.lower()
