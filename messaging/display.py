"""What a page of messages shows to one viewer, prepared in a fixed number of queries.

messaging/cards.py prepares the cards (what of each the viewer may see, and what their buttons
show: likes, follows); this adds whether each message is the viewer's to edit.
"""

from collections.abc import Iterable

from messaging.cards import attach_cards
from messaging.models import Message
from messaging.services import message_can_be_edited


def prepare_messages(messages: Iterable[Message], viewer) -> list[Message]:
    """Set the cards' attributes (see messaging/cards.py: `card_state`, `liked`, `like_count`,
    `followed`, ...) and `can_edit`. Expects rows read with `with_card_data()`."""
    messages = attach_cards(messages, viewer)
    for message in messages:
        message.can_edit = message_can_be_edited(message, viewer)
    return messages
