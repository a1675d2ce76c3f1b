"""@mentions: finding them in a message's text, and showing them.

One rule finds them, used twice: when a message is sent (messaging/services.py stores whom it
names among the people in the conversation then) and when it is shown (messaging/display.py
links exactly the stored people). So a mention is fixed at send: an edit that adds "@cy"
leaves plain text and notifies nobody; one that removes "@bea" removes the link, and Bea was
told at send time. Usernames are Django's (letters, digits and @ . + - _), matched without
regard to case.
"""

import re
from collections.abc import Iterable, Iterator

from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines

# "@" that starts a token: not inside a word or an email address ("a@b.com", "x.y@z"), then
# everything a username may hold. The token may run on past the name ("@bea," or "@bea.")
# and is matched against the names by prefix (_match).
_TOKEN = re.compile(r"(?<![\w.@+-])@([\w.@+-]+)")


def _match(token: str, names: list[str]) -> str | None:
    """The longest name (lower case) the token starts with, if the name ends there: the next
    character is not a letter or digit ("@bea." and "@bea-" name bea, "@beatrice" does not)."""
    lowered = token.lower()
    for name in names:  # longest first
        after = lowered[len(name) : len(name) + 1]
        if lowered.startswith(name) and not (after.isalnum() or after == "_"):
            return name
    return None


def find(text: str, usernames: Iterable[str]) -> Iterator[tuple[int, int, str]]:
    """(start, end, lower-case username) of each mention of one of `usernames` in the text,
    `start` at the "@"."""
    names = sorted({name.lower() for name in usernames}, key=len, reverse=True)
    if not names or "@" not in text:
        return
    for token in _TOKEN.finditer(text):
        name = _match(token.group(1), names)
        if name is not None:
            yield token.start(), token.start(1) + len(name), name


def mentioned_names(text: str, usernames: Iterable[str]) -> set[str]:
    """The lower-case usernames the text mentions, each once."""
    return {name for _, _, name in find(text, usernames)}


def render(text: str, people: Iterable, viewer_id: int | None) -> SafeString:
    """The text as HTML: escaped, its line breaks kept (like |linebreaksbr), and each mention of
    one of `people` (the users the message stored) a link to their profile; the viewer's own
    mention highlighted (<mark>, and "(you)" for screen readers)."""
    by_name = {person.username.lower(): person for person in people}
    parts = []
    position = 0
    for start, end, name in find(text, by_name):
        person = by_name[name]
        parts.append(conditional_escape(text[position:start]))
        url = reverse("profile", kwargs={"username": person.username})
        if person.pk == viewer_id:
            parts.append(
                format_html(
                    '<a class="mention mention--me" href="{}"><mark>{}</mark>'
                    '<span class="visually-hidden"> (you)</span></a>',
                    url,
                    text[start:end],
                )
            )
        else:
            parts.append(format_html('<a class="mention" href="{}">{}</a>', url, text[start:end]))
        position = end
    parts.append(conditional_escape(text[position:]))
    html = "".join(parts)
    # The line breaks of |linebreaksbr, on text already escaped.
    return mark_safe(normalize_newlines(html).replace("\n", "<br>"))
