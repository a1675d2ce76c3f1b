"""The conversation access matrix (DESIGN.md §3.1), shared by every test of a read path.

One small world, built fresh for each test:

* `alice`, `bob`, `carol` and `hank` are in the group conversation, which has three messages;
* `dave` was in it and left (he sent one message before leaving);
* `erin` is in another conversation, with `frank`;
* `gina` has a pending message request from `frank` (`request`), and declined one from `erin`
  (`declined`: gone for her, still there for erin);
* `alice` blocked `hank`: their one-to-one (`blocked_pair`) is hidden from both, while the
  group they are both in stays open to both;
* `stranger` is in no conversation;
* `anonymous` is not signed in (and `None` is treated the same way).

The tables read across: one row per object, one column per viewer.
"""

from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.models import Block
from messaging.models import Participant
from tests.factories import ConversationFactory, MessageFactory, ParticipantFactory, UserFactory

VIEWERS = ("alice", "bob", "dave", "erin", "gina", "hank", "stranger", "anonymous")
T, F = True, False

CONVERSATION_ACCESS = {
    #                alice  bob  dave(left) erin gina(request) hank(blocked) stranger anon
    "group":         (T,    T,   F,         F,   F,            T,            F,       F),
    "other":         (F,    F,   F,         T,   F,            F,            F,       F),
    "request":       (F,    F,   F,         F,   T,            F,            F,       F),
    "declined":      (F,    F,   F,         T,   F,            F,            F,       F),
    "blocked_pair":  (F,    F,   F,         F,   F,            F,            F,       F),
}  # fmt: skip

MESSAGE_ACCESS = {
    #                    alice bob dave(left) erin gina(request) hank(blocked) stranger anon
    "group_first":       (T,   T,  F,         F,   F,            T,            F,       F),
    "group_by_dave":     (T,   T,  F,         F,   F,            T,            F,       F),
    "group_last":        (T,   T,  F,         F,   F,            T,            F,       F),
    "other_message":     (F,   F,  F,         T,   F,            F,            F,       F),
    "request_message":   (F,   F,  F,         F,   T,            F,            F,       F),
    "declined_message":  (F,   F,  F,         T,   F,            F,            F,       F),
    "blocked_message":   (F,   F,  F,         F,   F,            F,            F,       F),
}  # fmt: skip

# Which list a conversation is in for each viewer: the inbox ("I"), the Requests tab ("R"), or
# neither ("-").
LISTED = {
    #                alice  bob  dave(left) erin gina(request) hank(blocked) stranger anon
    "group":         ("I",  "I", "-",       "-", "-",          "I",          "-",     "-"),
    "other":         ("-",  "-", "-",       "I", "-",          "-",          "-",     "-"),
    "request":       ("-",  "-", "-",       "-", "R",          "-",          "-",     "-"),
    "declined":      ("-",  "-", "-",       "I", "-",          "-",          "-",     "-"),
    "blocked_pair":  ("-",  "-", "-",       "-", "-",          "-",          "-",     "-"),
}  # fmt: skip


def build_world():
    alice, bob, carol, dave, erin, frank, gina, hank, stranger = (
        UserFactory(username=name)
        for name in (
            "alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "stranger"
        )
    )  # fmt: skip
    group = ConversationFactory(created_by=alice, name="Group")
    for person in (alice, bob, carol, dave, hank):
        ParticipantFactory(conversation=group, user=person)
    group_first = MessageFactory(conversation=group, sender=alice)
    group_by_dave = MessageFactory(conversation=group, sender=dave)
    Participant.objects.filter(conversation=group, user=dave).update(left_at=timezone.now())
    group_last = MessageFactory(conversation=group, sender=bob)

    other = ConversationFactory(created_by=erin)
    for person in (erin, frank):
        ParticipantFactory(conversation=other, user=person)
    other_message = MessageFactory(conversation=other, sender=frank)

    request = ConversationFactory(created_by=frank)
    ParticipantFactory(conversation=request, user=frank)
    ParticipantFactory(conversation=request, user=gina, is_request=True, invited_by=frank)
    request_message = MessageFactory(conversation=request, sender=frank)

    declined = ConversationFactory(created_by=erin)
    ParticipantFactory(conversation=declined, user=erin)
    ParticipantFactory(
        conversation=declined,
        user=gina,
        is_request=True,
        invited_by=erin,
        declined_at=timezone.now(),
    )
    declined_message = MessageFactory(conversation=declined, sender=erin)

    blocked_pair = ConversationFactory(created_by=alice)
    for person in (alice, hank):
        ParticipantFactory(conversation=blocked_pair, user=person)
    blocked_message = MessageFactory(conversation=blocked_pair, sender=hank)
    Block.objects.create(blocker=alice, blocked=hank)

    return SimpleNamespace(
        alice=alice,
        bob=bob,
        carol=carol,
        dave=dave,
        erin=erin,
        frank=frank,
        gina=gina,
        hank=hank,
        stranger=stranger,
        anonymous=AnonymousUser(),
        group=group,
        other=other,
        group_first=group_first,
        group_by_dave=group_by_dave,
        group_last=group_last,
        other_message=other_message,
        request=request,
        request_message=request_message,
        declined=declined,
        declined_message=declined_message,
        blocked_pair=blocked_pair,
        blocked_message=blocked_message,
    )
