"""Cards: the pin, board or profile inside a message, re-checked for the viewer at every render.

The one place where cards are read and checked (DESIGN.md §3.2), for the conversation page, the
inbox preview and the data export alike. A viewer who may not see a secret pin or board gets a
neutral "private" card (no title, image or owner); a pin or board deleted since it was sent, or
hidden by moderators, leaves a "no longer available" card (its owner still sees it).

For a list of messages each kind of card is read once, whatever their number: one pin query,
one board query (plus one for the cover pins of the boards shown) and one profile query, each
carrying whether the viewer may see the target (through the model's own `visible_to`) and what
the card's buttons show (likes, follows).

What the templates read on each message with a card:
- `card_state`: VISIBLE, PRIVATE or UNAVAILABLE (None for a text message);
- `pin`, `board`, `profile`: the target, loaded only when the card is visible (None otherwise,
  so nothing of a secret pin or board reaches a template, and nothing is fetched lazily);
- `visible_board`: the board with `pin_count` and `cover_pins`, when visible;
- `like_count`, `liked` (pins) and `followed` (boards and people), when visible.
"""

from collections.abc import Iterable, Iterator, Sequence
from itertools import batched

from django.db.models import Exists, OuterRef

from accounts.models import Follow, User
from messaging.models import Message
from pinboard.covers import attach_cover_pins, cover_ids
from pinboard.models import Board, BoardFollow, Pin

VISIBLE = "visible"
PRIVATE = "private"
UNAVAILABLE = "unavailable"


def attach_cards(messages: Iterable[Message], viewer) -> list[Message]:
    """Prepare the cards of a page of messages and of the messages they quote, as the
    conversation page shows them (covers included). Expects rows read with `with_card_data()`
    (the quoted messages come with them); costs at most four queries, none without cards."""
    messages = list(messages)
    quoted = [m.reply_to for m in messages if m.reply_to_id and m.reply_to is not None]
    prepare_cards(messages + quoted, viewer, covers=True)
    return messages


def attach_cards_in_chunks(messages: Iterable[Message], viewer, *, size: int) -> Iterator[Message]:
    """Prepare cards `size` messages at a time, for a stream of messages too long to hold (the
    data export). Quotes are left alone (they are ids there) and covers are not read."""
    for chunk in batched(messages, size):
        prepare_cards(chunk, viewer, covers=False)
        yield from chunk


def prepare_cards(messages: Sequence[Message], viewer, *, covers: bool) -> None:
    """Set what the templates read (see the module's docstring) on exactly these messages.
    `covers`: also read the cover pins of the boards shown (a board card shows them; a preview
    line does not)."""
    pins = _pins(_target_ids(messages, "pin"), viewer)
    boards = _boards(_target_ids(messages, "board"), viewer)
    if covers:
        shown = [board for board in boards.values() if board.card_state == VISIBLE]
        attach_cover_pins(shown, {board.pk: board.cover_ids for board in shown})
    profiles = _profiles(_target_ids(messages, "profile"), viewer)
    for message in messages:
        message.card_state = None
        if message.kind == Message.Kind.PIN:
            _set_pin_card(message, pins.get(message.pin_id))
        elif message.kind == Message.Kind.BOARD:
            _set_board_card(message, boards.get(message.board_id))
        elif message.kind == Message.Kind.PROFILE:
            _set_profile_card(message, profiles.get(message.profile_id))


# --- Reading: one query per kind -------------------------------------------------------------


def _target_ids(messages: Sequence[Message], field: str) -> set[int]:
    """The ids of the pins, boards or people (`field`) these messages hold; a deleted one has
    left NULL behind (on_delete=SET_NULL), and its card reads "no longer available"."""
    return {pk for message in messages if (pk := getattr(message, f"{field}_id")) is not None}


def _visible(model, viewer) -> Exists:
    """Whether the viewer may see the row: the model's own read rule, asked per row."""
    return Exists(model.objects.visible_to(viewer).filter(pk=OuterRef("pk")))


def _state(*, visible: bool, hidden: bool) -> str:
    # Hidden by moderators reads as gone, like a deleted target (its owner still sees it: for
    # them it is visible).
    if visible:
        return VISIBLE
    return UNAVAILABLE if hidden else PRIVATE


def _pins(ids: set[int], viewer) -> dict[int, Pin]:
    """The pins by id, as pin cards show them (`for_cards`: image, owner, like count, the
    viewer's like), each with its `card_state`. `for_cards` leaves out a pin hidden by
    moderators unless it is the viewer's own: missing, it reads as gone."""
    if not ids:
        return {}
    pins = Pin.objects.filter(pk__in=ids).for_cards(viewer).defer("search_vector")
    pins = pins.annotate(visible=_visible(Pin, viewer))
    for pin in pins:
        pin.card_state = _state(visible=pin.visible, hidden=pin.is_hidden)
    return {pin.pk: pin for pin in pins}


def _boards(ids: set[int], viewer) -> dict[int, Board]:
    """The boards by id with their owner, `pin_count`, `cover_ids` and `followed`, each with
    its `card_state`."""
    if not ids:
        return {}
    follows = BoardFollow.objects.filter(user=viewer, board=OuterRef("pk"))
    boards = (
        Board.objects.filter(pk__in=ids)
        .select_related("owner")
        .defer("search_vector")
        .with_pin_count()
        .annotate(visible=_visible(Board, viewer), followed=Exists(follows), cover_ids=cover_ids())
    )
    for board in boards:
        board.card_state = _state(visible=board.visible, hidden=board.hidden_at is not None)
    return {board.pk: board for board in boards}


def _profiles(ids: set[int], viewer) -> dict[int, User]:
    """The people by id with `followed`, each with its `card_state`: an account closed
    (inactive) reads as gone."""
    if not ids:
        return {}
    follows = Follow.objects.filter(follower=viewer, followee=OuterRef("pk"))
    people = User.objects.filter(pk__in=ids).annotate(followed=Exists(follows))
    for person in people:
        person.card_state = VISIBLE if person.is_active else UNAVAILABLE
    return {person.pk: person for person in people}


# --- Deciding: what each card shows ----------------------------------------------------------


def _set_card(message: Message, field: str, target):
    """Set the message's `card_state` from its target (None: deleted, or hidden and so left
    out) and return the target if the card shows it, else None.

    Only a shown target goes into the message's relation cache; otherwise None does, so a
    template never reaches a private one, nor fetches it lazily. The `<field>_id` column keeps
    its value: the message still records what was sent."""
    message.card_state = target.card_state if target is not None else UNAVAILABLE
    shown = target if message.card_state == VISIBLE else None
    Message._meta.get_field(field).set_cached_value(message, shown)
    return shown


def _set_pin_card(message: Message, pin: Pin | None) -> None:
    if pin := _set_card(message, "pin", pin):
        message.like_count, message.liked = pin.like_count, pin.liked


def _set_board_card(message: Message, board: Board | None) -> None:
    message.visible_board = _set_card(message, "board", board)
    if message.visible_board is not None:
        message.followed = message.visible_board.followed


def _set_profile_card(message: Message, person: User | None) -> None:
    if person := _set_card(message, "profile", person):
        message.followed = person.followed
