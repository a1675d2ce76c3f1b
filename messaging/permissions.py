"""Who may message whom: the one place that decides it.

Two questions, asked by messaging/services.py whenever someone starts a conversation or adds
people to one:

* may the sender message this person at all (`can_message`, `cannot_message`)? Never
  themselves, never an inactive account, never across a block either way. A refusal names the
  person neutrally ("You can't message Bea."): blocking is silent.
* does it arrive as a message request (`needs_request`)? When the recipient's "who can message
  me" choice leaves the sender out: "people I follow" and they don't follow the sender, or
  "nobody". A request waits in the recipient's Requests tab until they accept it.
"""

from django.db.models import Q

from accounts.models import Block, Follow, User


def cannot_message(sender: User, people: list[User]) -> list[User]:
    """Those of `people` the sender may not message (one query, however many people)."""
    ids = [person.pk for person in people]
    blocked = set()
    if ids:
        rows = Block.objects.filter(
            Q(blocker=sender, blocked_id__in=ids) | Q(blocked=sender, blocker_id__in=ids)
        ).values_list("blocker_id", "blocked_id")
        blocked = {pk for pair in rows for pk in pair} - {sender.pk}
    return [
        person
        for person in people
        if person.pk == sender.pk
        or not person.is_active
        or not sender.is_active
        or person.pk in blocked
    ]


def can_message(sender: User, recipient: User) -> bool:
    return not cannot_message(sender, [recipient])


def needs_request(sender: User, people: list[User]) -> set[int]:
    """Ids of those of `people` for whom a conversation from `sender` is a message request
    (at most one query: who of the "people I follow" ones follow the sender)."""
    choice = User.MessagePrivacy
    nobody = {person.pk for person in people if person.message_privacy == choice.NOBODY}
    following = [person.pk for person in people if person.message_privacy == choice.FOLLOWING]
    if following:
        follow_sender = set(
            Follow.objects.filter(follower_id__in=following, followee=sender).values_list(
                "follower_id", flat=True
            )
        )
        nobody |= set(following) - follow_sender
    return nobody - {sender.pk}
