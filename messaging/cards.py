"""Cards: the pin, board or profile inside a message, re-checked for the viewer at every render.

A viewer who may not see a secret pin or board gets a neutral "private" card (no title, image or
owner); a pin or board deleted since it was sent leaves a "no longer available" card. The checks
for a whole page of messages cost a fixed number of queries, however many cards it holds.
"""

from collections.abc import Iterable

from messaging.models import Message
from pinboard.covers import attach_covers
from pinboard.models import Board, Pin

VISIBLE = "visible"
PRIVATE = "private"
UNAVAILABLE = "unavailable"


def _state(exists: bool, visible: bool) -> str:
    if not exists:
        return UNAVAILABLE
    return VISIBLE if visible else PRIVATE


def _pin_hidden(pin: Pin) -> bool:
    """Hidden by moderators, on its own or with its board (loaded by with_card_data())."""
    return pin.hidden_at is not None or pin.board.hidden_at is not None


def attach_cards(messages: Iterable[Message], viewer) -> list[Message]:
    """Set `message.card_state` (visible / private / unavailable) on every message with a card,
    for this viewer, and load what visible board cards show (cover pins, pin count).

    Expects messages fetched with `with_card_data()`; costs at most four queries.
    """
    messages = list(messages)
    quoted = [m.reply_to for m in messages if m.reply_to_id and m.reply_to is not None]
    everything = messages + quoted
    pin_ids = {m.pin_id for m in everything if m.pin_id}
    board_ids = {m.board_id for m in everything if m.board_id}
    visible_pins = set(
        Pin.objects.visible_to(viewer).filter(pk__in=pin_ids).values_list("pk", flat=True)
    ) if pin_ids else set()  # fmt: skip
    boards = {}
    if board_ids:
        boards = {
            board.pk: board
            for board in attach_covers(
                list(
                    Board.objects.visible_to(viewer)
                    .filter(pk__in=board_ids)
                    .defer("search_vector")
                    .with_pin_count()
                )
            )
        }
    for message in everything:
        if message.kind == Message.Kind.PIN:
            visible = message.pin_id in visible_pins
            # Hidden by moderators reads as gone (their owner still sees it: it is visible).
            exists = message.pin_id is not None and (visible or not _pin_hidden(message.pin))
            message.card_state = _state(exists, visible)
        elif message.kind == Message.Kind.BOARD:
            visible = message.board_id in boards
            exists = message.board_id is not None and (visible or message.board.hidden_at is None)
            message.card_state = _state(exists, visible)
            message.visible_board = boards.get(message.board_id)
        elif message.kind == Message.Kind.PROFILE:
            active = message.profile_id is not None and message.profile.is_active
            message.card_state = VISIBLE if active else UNAVAILABLE
        else:
            message.card_state = None
    return messages
