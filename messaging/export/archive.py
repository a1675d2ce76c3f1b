"""A person's data as a zip of JSON files and their original images ("Download my data",
`manage.py export_user`).

Only what is theirs and what they may still see, through the same read rules as the pages:
their own boards and pins (and boards they collaborate on), their likes and comments on pins
they can see, whom they follow and block, and their conversations with the messages in them.
A conversation they left is exported up to the moment they left, never after. A pin or board
sent in a message is a reference, as on the page: its title only if the person may see it now.

Memory stays bounded whatever the amounts: rows are read with `.iterator()` and each JSON file
and image is streamed into the zip entry by entry, never built whole in memory.

It lives in messaging because it reads every app (imports run messaging -> pinboard -> accounts).
"""

import io
import itertools
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any

from allauth.account.models import EmailAddress
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from accounts.models import Block, Follow, User
from messaging.cards import VISIBLE, attach_cards_in_chunks
from messaging.models import Conversation, Message, Participant
from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin, PinImage

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1_000
DELETED_USER = "deleted user"
UNAVAILABLE = "private or no longer available"

README = """\
Your Pinboard data
==================

Exported for {username} on {date} (UTC).

profile.json        Your profile: username, display name, bio, email addresses, settings.
                    Your avatar, if you have one, is images/{avatar}.
boards.json         Boards you own (with their collaborators) and boards you collaborate on.
pins.json           Your pins. "image" is the original image file in the images/ folder (a pin
                    and your saves of it share one file).
likes.json          Pins you liked (those you can still see).
comments.json       Your comments (on pins you can still see).
following.json      People and boards you follow, and people you blocked.
conversations.json  Your conversations with their messages. For a conversation you left, only
                    the messages up to when you left. A message whose sender deleted their
                    account is signed "deleted user"; a pin or board sent in a message shows
                    its title only if you can still see it.
images/             The original image files.

All times are ISO 8601 in UTC. The JSON files are UTF-8.
"""


def write_user_export(*, user: User, file: IO[bytes]) -> None:
    """Write `user`'s data as a zip into `file` (a binary file opened for writing; seekable
    files give the most compatible zip)."""
    exported_at = timezone.now()
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write_json(archive, "profile.json", _profile(user))
        _write_json_list(archive, "boards.json", _boards(user))
        _write_json_list(archive, "pins.json", _pins(user))
        _write_json_list(archive, "likes.json", _likes(user))
        _write_json_list(archive, "comments.json", _comments(user))
        _write_json(archive, "following.json", _following(user))
        _write_conversations(archive, user)
        missing = _write_images(archive, user)
        readme = README.format(
            username=user.username,
            date=exported_at.strftime("%Y-%m-%d %H:%M"),
            avatar=_avatar_entry(user).removeprefix("images/") or "(none)",
        )
        if missing:
            readme += (
                "\nThese images could not be read from storage and are missing from this "
                "export:\n" + "".join(f"  {name}\n" for name in missing)
            )
        archive.writestr("README.txt", readme)


# --- Writing -----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@contextmanager
def _text_entry(archive: zipfile.ZipFile, name: str) -> Iterator[io.TextIOWrapper]:
    with archive.open(name, "w", force_zip64=True) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        try:
            yield text
        finally:
            text.flush()
            text.detach()


def _write_json(archive: zipfile.ZipFile, name: str, data: Any) -> None:
    with _text_entry(archive, name) as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")


def _write_json_list(archive: zipfile.ZipFile, name: str, items: Iterable[dict]) -> None:
    """A JSON array written one element at a time."""
    with _text_entry(archive, name) as out:
        out.write("[")
        for index, item in enumerate(items):
            out.write(",\n  " if index else "\n  ")
            out.write(json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  "))
        out.write("\n]\n")


def _image_entry(image_id: int, file_name: str) -> str:
    return f"images/pin-image-{image_id}{os.path.splitext(file_name)[1]}"


def _avatar_entry(user: User) -> str:
    return f"images/avatar{os.path.splitext(user.avatar.name)[1]}" if user.avatar else ""


def _write_images(archive: zipfile.ZipFile, user: User) -> list[str]:
    """Copy the original image of each of the person's pins (once per file) and their avatar;
    return the entries whose file could not be read."""
    images = PinImage.objects.filter(pk__in=_own_pins(user).values("image_id")).order_by("pk")
    files = (
        (_image_entry(pk, name), name)
        for pk, name in images.values_list("pk", "file").iterator(chunk_size=CHUNK_SIZE)
    )
    if user.avatar:
        files = itertools.chain([(_avatar_entry(user), user.avatar.name)], files)
    missing = []
    for entry, name in files:
        # Images are compressed already: stored as they are, not deflated again.
        info = zipfile.ZipInfo(entry, date_time=timezone.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        try:
            with (
                default_storage.open(name, "rb") as source,
                archive.open(info, "w", force_zip64=True) as target,
            ):
                shutil.copyfileobj(source, target, 1024 * 1024)
        except OSError:
            logger.warning("Export of %s: could not read %s", user.username, name, exc_info=True)
            missing.append(entry)
    return missing


# --- What goes in ------------------------------------------------------------------------------


def _profile(user: User) -> dict:
    emails = EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    return {
        "username": user.username,
        "display_name": user.display_name,
        "bio": user.bio,
        "email": user.email,
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in emails
        ],
        "avatar": _avatar_entry(user) or None,
        "who_can_message_me": user.message_privacy,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "profile_url": user.get_absolute_url(),
    }


def _boards(user: User) -> Iterator[dict]:
    collaborating = BoardMember.objects.filter(
        board=OuterRef("pk"), user=user, status=BoardMember.Status.ACCEPTED
    )
    members = BoardMember.objects.filter(status=BoardMember.Status.ACCEPTED).select_related("user")
    boards = (
        Board.objects.visible_to(user)
        .filter(Q(owner=user) | Exists(collaborating))
        .select_related("owner")
        .defer("search_vector")
        .prefetch_related(Prefetch("memberships", queryset=members))
        .order_by("pk")
    )
    for board in boards.iterator(chunk_size=CHUNK_SIZE):
        own = board.owner_id == user.pk
        yield {
            "id": board.pk,
            "name": board.name,
            "description": board.description,
            "secret": board.is_secret,
            "role": "owner" if own else "collaborator",
            "owner": board.owner.username,
            "collaborators": [member.user.username for member in board.memberships.all()],
            "created_at": _iso(board.created_at),
            "url": board.get_absolute_url(),
        }


def _own_pins(user: User):
    # Through the read rule: a pin of theirs on a secret board they were removed from went
    # with the board (PinQuerySet.editable_by).
    return Pin.objects.visible_to(user).filter(owner=user)


def _pins(user: User) -> Iterator[dict]:
    saved_from_visible = Exists(Pin.objects.visible_to(user).filter(pk=OuterRef("saved_from_id")))
    pins = (
        _own_pins(user)
        .select_related("board", "image")
        .defer("search_vector", "board__search_vector")
        .annotate(saved_from_visible=saved_from_visible)
        .order_by("pk")
    )
    for pin in pins.iterator(chunk_size=CHUNK_SIZE):
        yield {
            "id": pin.pk,
            "title": pin.title,
            "description": pin.description,
            "source_url": pin.source_url,
            "board": {"id": pin.board_id, "name": pin.board.name},
            "image": _image_entry(pin.image_id, pin.image.file.name),
            "width": pin.image.width,
            "height": pin.image.height,
            "saved_from_pin": pin.saved_from_id if pin.saved_from_visible else None,
            "created_at": _iso(pin.created_at),
            "url": pin.get_absolute_url(),
        }


def _likes(user: User) -> Iterator[dict]:
    likes = (
        Like.objects.filter(user=user, pin__in=Pin.objects.visible_to(user))
        .select_related("pin__owner")
        .only("created_at", "pin__title", "pin__owner__username")
        .order_by("pk")
    )
    for like in likes.iterator(chunk_size=CHUNK_SIZE):
        yield {
            "pin": {
                "id": like.pin_id,
                "title": like.pin.title,
                "owner": like.pin.owner.username,
                "url": like.pin.get_absolute_url(),
            },
            "liked_at": _iso(like.created_at),
        }


def _comments(user: User) -> Iterator[dict]:
    comments = (
        Comment.objects.visible_to(user)
        .filter(author=user)
        .select_related("pin")
        .only("text", "created_at", "pin__title")
        .order_by("pk")
    )
    for comment in comments.iterator(chunk_size=CHUNK_SIZE):
        yield {
            "id": comment.pk,
            "pin": {"id": comment.pin_id, "title": comment.pin.title},
            "text": comment.text,
            "created_at": _iso(comment.created_at),
        }


def _following(user: User) -> dict:
    # Small lists (people follow hundreds, not millions): one JSON object.
    people = Follow.objects.filter(follower=user).select_related("followee").order_by("pk")
    boards = (
        BoardFollow.objects.filter(user=user, board__in=Board.objects.visible_to(user))
        .select_related("board__owner")
        .order_by("pk")
    )
    blocked = Block.objects.filter(blocker=user).select_related("blocked").order_by("pk")
    return {
        "people": [
            {"username": follow.followee.username, "since": _iso(follow.created_at)}
            for follow in people.iterator(chunk_size=CHUNK_SIZE)
        ],
        "boards": [
            {
                "id": follow.board_id,
                "name": follow.board.name,
                "owner": follow.board.owner.username,
                "since": _iso(follow.created_at),
            }
            for follow in boards.iterator(chunk_size=CHUNK_SIZE)
        ],
        "blocked": [
            {"username": block.blocked.username, "since": _iso(block.created_at)}
            for block in blocked.iterator(chunk_size=CHUNK_SIZE)
        ],
    }


def _participations(user: User):
    """The person's conversations: those they may open now, and those they left (declined
    requests are gone for them, as in the inbox)."""
    return (
        Participant.objects.filter(user=user, declined_at__isnull=True)
        .filter(
            Q(conversation__in=Conversation.objects.readable_by(user)) | Q(left_at__isnull=False)
        )
        .select_related("conversation")
        .prefetch_related(
            Prefetch(
                "conversation__participants",
                queryset=Participant.objects.active().select_related("user").order_by("pk"),
                to_attr="current_participants",
            )
        )
        .order_by("conversation_id")
    )


def _write_conversations(archive: zipfile.ZipFile, user: User) -> None:
    """A JSON array of conversations, each with its messages streamed one by one (a
    conversation can hold 100,000 of them)."""
    with _text_entry(archive, "conversations.json") as out:
        out.write("[")
        for index, participation in enumerate(_participations(user).iterator(chunk_size=100)):
            conversation = participation.conversation
            header = {
                "id": conversation.pk,
                "name": conversation.name,
                "started_at": _iso(conversation.created_at),
                "you_joined_at": _iso(participation.joined_at),
                "you_left_at": _iso(participation.left_at),
                "message_request": participation.is_request,
                "participants": [
                    other.user.username for other in conversation.current_participants
                ],
            }
            text = json.dumps(header, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            out.write(",\n  " if index else "\n  ")
            out.write(text.removesuffix("\n  }") + ',\n    "messages": [')
            for number, message in enumerate(_messages(user, participation)):
                item = json.dumps(message, ensure_ascii=False, indent=2)
                out.write(",\n      " if number else "\n      ")
                out.write(item.replace("\n", "\n      "))
            out.write("\n    ]\n  }")
        out.write("\n]\n")


def _messages(user: User, participation: Participant) -> Iterator[dict]:
    messages = Message.objects.filter(conversation_id=participation.conversation_id)
    if participation.left_at is not None:
        messages = messages.filter(created_at__lte=participation.left_at)
    messages = messages.select_related("sender").order_by("pk")
    # Cards are checked as on the page (messaging/cards.py), one chunk of messages at a time.
    rows = messages.iterator(chunk_size=CHUNK_SIZE)
    for message in attach_cards_in_chunks(rows, user, size=CHUNK_SIZE):
        yield _message(message)


def _message(message: Message) -> dict:
    item = {
        "id": message.pk,
        "sender": message.sender.username if message.sender else DELETED_USER,
        "sent_at": _iso(message.created_at),
        "kind": message.kind,
        "text": message.text,
        "reply_to": message.reply_to_id,
        "edited_at": _iso(message.edited_at),
        "deleted": message.is_deleted,
    }
    if message.is_deleted:
        return item
    visible = message.card_state == VISIBLE
    if message.kind == Message.Kind.PIN:
        item["pin"] = (
            {
                "id": message.pin_id,
                "title": message.pin.title,
                "url": message.pin.get_absolute_url(),
            }
            if visible
            else UNAVAILABLE
        )
    elif message.kind == Message.Kind.BOARD:
        item["board"] = (
            {
                "id": message.board_id,
                "name": message.board.name,
                "url": message.board.get_absolute_url(),
            }
            if visible
            else UNAVAILABLE
        )
    elif message.kind == Message.Kind.PROFILE:
        item["profile"] = message.profile.username if visible else UNAVAILABLE
    return item
