"""What a page of messages shows to one viewer, prepared in a fixed number of queries.

messaging/cards.py prepares the cards (what of each the viewer may see, and what their buttons
show: likes, follows); this adds whether each message is the viewer's to edit, and its text as
HTML with its @mentions linked (messaging/mentions.py).
"""

from collections import defaultdict
from collections.abc import Iterable

from messaging import mentions
from messaging.cards import attach_cards
from messaging.models import Message
from messaging.services import message_can_be_edited


def prepare_messages(messages: Iterable[Message], viewer) -> list[Message]:
    """Set the cards' attributes (see messaging/cards.py: `card_state`, `liked`, `like_count`,
    `followed`, ...), `can_edit` and `text_html`. Expects rows read with `with_card_data()`."""
    messages = attach_cards(messages, viewer)
    for message in messages:
        message.can_edit = message_can_be_edited(message, viewer)
    _attach_text_html(messages, viewer)
    return messages


def _attach_text_html(messages: list[Message], viewer) -> None:
    """`text_html`: the escaped text with its line breaks, and the people it mentioned (stored
    at send) as links to their profiles, the viewer's own highlighted. Their mentions are read
    in one query, and only when some text has an "@" (most pages cost nothing)."""
    with_at = [message.pk for message in messages if "@" in message.text]
    people = defaultdict(list)
    if with_at:
        rows = Message.mentions.through.objects.filter(message_id__in=with_at).select_related(
            "user"
        )
        for row in rows:
            people[row.message_id].append(row.user)
    for message in messages:
        message.text_html = mentions.render(message.text, people[message.pk], viewer.pk)
