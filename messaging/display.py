"""What a page of messages shows to one viewer, prepared in a fixed number of queries.

messaging/cards.py decides what of each card the viewer may see (visible / private /
unavailable). This adds what the card's buttons show for the viewer: whether they like a pin
(and its like count), follow a board or follow a person, and whether each message is theirs to
edit. One query per kind of card on the page, however many cards there are.
"""

from collections.abc import Iterable

from accounts.models import Follow
from messaging.cards import VISIBLE, attach_cards
from messaging.models import Message
from messaging.services import message_can_be_edited
from pinboard.models import BoardFollow, Pin


def prepare_messages(messages: Iterable[Message], viewer) -> list[Message]:
    """Set `card_state` (see attach_cards), `can_edit`, and for visible cards `liked` and
    `like_count` (pins) or `followed` (boards and people). Expects `with_card_data()` rows."""
    messages = attach_cards(messages, viewer)
    visible = [m for m in messages if m.card_state == VISIBLE and not m.is_deleted]
    pin_ids = {m.pin_id for m in visible if m.kind == Message.Kind.PIN}
    board_ids = {m.board_id for m in visible if m.kind == Message.Kind.BOARD}
    profile_ids = {m.profile_id for m in visible if m.kind == Message.Kind.PROFILE}
    likes = {}
    if pin_ids:
        rows = Pin.objects.filter(pk__in=pin_ids).for_cards(viewer)
        likes = {pk: (count, liked) for pk, count, liked in
                 rows.values_list("pk", "like_count", "liked")}  # fmt: skip
    followed_boards = set()
    if board_ids:
        followed_boards = set(
            BoardFollow.objects.filter(user=viewer, board_id__in=board_ids).values_list(
                "board_id", flat=True
            )
        )
    followed_people = set()
    if profile_ids:
        followed_people = set(
            Follow.objects.filter(follower=viewer, followee_id__in=profile_ids).values_list(
                "followee_id", flat=True
            )
        )
    for message in messages:
        message.can_edit = message_can_be_edited(message, viewer)
        if message.kind == Message.Kind.PIN:
            message.like_count, message.liked = likes.get(message.pin_id, (0, False))
        elif message.kind == Message.Kind.BOARD:
            message.followed = message.board_id in followed_boards
        elif message.kind == Message.Kind.PROFILE:
            message.followed = message.profile_id in followed_people
    return messages
