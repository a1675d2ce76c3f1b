"""Message requests: who can message me, the Requests tab, and Accept / Decline / Block.

Al writes to people whose "who can message me" choice leaves him out: Bea (nobody) and Cy
(people I follow, and Cy doesn't follow Al). Dee (everyone) and Eve (following, and she follows
Al) get ordinary conversations.
"""

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Block, User
from messaging import live, services
from messaging.inbox import request_count, unread_total
from messaging.models import Conversation, Event, Message, Participant
from messaging.permissions import needs_request
from tests.factories import FollowFactory, UserFactory

REQUESTS = "/messages/requests/"
INBOX = "/messages/"
Privacy = User.MessagePrivacy


@pytest.fixture
def people(db):
    al = UserFactory(username="al", display_name="Al")
    bea = UserFactory(username="bea", display_name="Bea", message_privacy=Privacy.NOBODY)
    cy = UserFactory(username="cy", display_name="Cy", message_privacy=Privacy.FOLLOWING)
    dee = UserFactory(username="dee", display_name="Dee")
    eve = UserFactory(username="eve", display_name="Eve", message_privacy=Privacy.FOLLOWING)
    FollowFactory(follower=eve, followee=al)
    FollowFactory(follower=al, followee=cy)  # Al following Cy doesn't make Cy follow Al
    return SimpleNamespace(al=al, bea=bea, cy=cy, dee=dee, eve=eve)


def send(sender, recipients, text="Hello"):
    return services.conversation_send(sender=sender, recipients=recipients, text=text)


def row(conversation, user) -> Participant:
    return Participant.objects.get(conversation=conversation, user=user)


def answer_url(conversation) -> str:
    return reverse("message_request_answer", args=[conversation.pk])


def conversation_url(conversation) -> str:
    return reverse("conversation", args=[conversation.pk])


# --- Who gets a request ----------------------------------------------------------------------


def test_needs_request_follows_each_persons_choice(people):
    asked = needs_request(people.al, [people.bea, people.cy, people.dee, people.eve])
    assert asked == {people.bea.pk, people.cy.pk}


@pytest.mark.parametrize(
    ("recipient", "is_request"),
    [("bea", True), ("cy", True), ("dee", False), ("eve", False)],
)
def test_a_new_conversation_is_a_request_only_for_those_whose_choice_excludes_the_sender(
    people, recipient, is_request
):
    person = getattr(people, recipient)
    conversation = send(people.al, [person]).conversation

    assert row(conversation, person).is_request is is_request
    assert row(conversation, person).invited_by == people.al
    assert row(conversation, people.al).is_request is False


def test_in_a_group_each_person_is_asked_by_their_own_choice(people):
    conversation = send(people.al, [people.bea, people.dee, people.eve]).conversation

    requests = set(
        Participant.objects.filter(conversation=conversation, is_request=True).values_list(
            "user__username", flat=True
        )
    )
    assert requests == {"bea"}


def test_being_added_to_a_group_follows_the_same_rule(people):
    conversation = send(people.al, [people.dee]).conversation
    services.conversation_add_people(
        conversation=conversation, by=people.al, people=[people.bea, people.eve]
    )

    assert row(conversation, people.bea).is_request is True
    assert row(conversation, people.bea).invited_by == people.al
    assert row(conversation, people.eve).is_request is False


def test_whether_it_is_a_request_depends_on_who_adds_them(people):
    """Cy follows Dee, not Al: Dee may add Cy to Al's group without asking."""
    FollowFactory(follower=people.cy, followee=people.dee)
    conversation = send(people.al, [people.dee]).conversation
    services.conversation_add_people(conversation=conversation, by=people.dee, people=[people.cy])

    assert row(conversation, people.cy).is_request is False
    assert row(conversation, people.cy).invited_by == people.dee


def test_a_choice_changed_later_leaves_existing_conversations_as_they_are(people):
    conversation = send(people.al, [people.dee]).conversation
    people.dee.message_privacy = Privacy.NOBODY
    people.dee.save()
    send(people.al, [people.dee], "Still here")

    assert row(conversation, people.dee).is_request is False
    assert Conversation.objects.count() == 1


# --- Where requests show, and what they count ------------------------------------------------


def test_requests_are_not_in_the_inbox_nor_the_badge_but_in_the_requests_tab(people, client_for):
    FollowFactory(follower=people.cy, followee=people.dee)
    request = send(people.al, [people.cy], "Hi Cy").conversation
    ordinary = send(people.dee, [people.cy], "Hi from Dee").conversation
    client = client_for(people.cy)

    inbox = client.get(INBOX)
    assert [c.pk for c in inbox.context["conversations"]] == [ordinary.pk]
    assert unread_total(people.cy) == 1  # Dee's message only
    assert "Messages, 1 unread" in inbox.text
    assert request_count(people.cy) == 1
    assert '<span class="unread-badge">1<span class="visually-hidden"> waiting</span>' in inbox.text

    requests = client.get(REQUESTS)
    assert requests.status_code == 200
    assert [c.pk for c in requests.context["conversations"]] == [request.pk]
    assert "Hi Cy" in requests.text
    assert 'aria-current="page">Requests' in requests.text
    assert "Hi from Dee" not in requests.text


def test_the_requests_tab_pages_with_htmx_rows_only(people, client_for, htmx):
    response = client_for(people.bea).get(REQUESTS, **htmx)
    assert response.status_code == 200
    assert "<html" not in response.text


def test_the_sender_sees_an_ordinary_sent_conversation(people, client_for):
    conversation = send(people.al, [people.bea], "Hi Bea").conversation
    client = client_for(people.al)

    inbox = client.get(INBOX)
    assert [c.pk for c in inbox.context["conversations"]] == [conversation.pk]
    page = client.get(conversation_url(conversation))
    assert page.status_code == 200
    assert 'id="composer"' in page.text
    assert "wants to message you" not in page.text


def test_opening_a_request_shows_it_read_only_with_accept_decline_block(people, client_for):
    conversation = send(people.al, [people.bea], "Hi Bea").conversation

    page = client_for(people.bea).get(conversation_url(conversation))

    assert page.status_code == 200
    assert "Hi Bea" in page.text
    assert "Al wants to message you" in page.text
    assert f'action="{reverse("conversation_post", args=[conversation.pk])}"' not in page.text
    assert f'<form method="post" action="{answer_url(conversation)}"' in page.text
    for answer in ("accept", "decline", "block"):
        assert f'name="answer" value="{answer}"' in page.text
    assert "Manage</a>" not in page.text


def test_a_request_page_costs_the_same_queries_at_any_size(
    people, client_for, django_assert_num_queries
):
    conversation = send(people.al, [people.bea], "Hi").conversation
    client = client_for(people.bea)
    client.get(conversation_url(conversation))  # marks it read
    # Session, user, conversation; marking read (savepoint, update, release: nothing unread);
    # messages (+ pins, boards, quotes prefetched, none here); participants; the nav badge.
    # No composer, so none of its queries.
    with django_assert_num_queries(9):
        client.get(conversation_url(conversation))
    for n in range(30):
        services.message_send(sender=people.al, conversation=conversation, text=f"More {n}")
    client.get(conversation_url(conversation))
    with django_assert_num_queries(9):
        client.get(conversation_url(conversation))


@pytest.mark.parametrize("size", [2, 15])
def test_the_requests_tab_costs_a_fixed_number_of_queries(people, client_for, size):
    for n in range(size):
        sender = UserFactory()
        send(sender, [people.bea, *([people.dee] if n % 2 else [])], f"Hello {n}")
    client = client_for(people.bea)
    client.get(REQUESTS)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(REQUESTS)
    assert len(response.context["conversations"]) == size
    # session, user, conversations, last messages, people, the nav badge, the Requests count
    assert len(queries) == 7


def test_live_events_of_a_request_say_so_and_stop_once_declined(people):
    """The stream marks a request's events, so the tab updates its Requests count rather than
    the unread badge; a declined request sends nothing more than the decline itself (for the
    decliner's other tabs: test_block_gaps.py)."""
    conversation = send(people.al, [people.bea], "Hi").conversation

    def stream_rows(user):
        with connection.cursor() as cursor:
            cursor.execute(*live.EVENTS.bind(user=user.pk, after=0))
            return [(row[1], row[2], row[4]) for row in cursor.fetchall() if row[-1]]

    assert stream_rows(people.bea) == [("message.new", conversation.pk, True)]
    assert stream_rows(people.al) == [("message.new", conversation.pk, False)]
    services.request_decline(conversation=conversation, user=people.bea)
    services.message_send(sender=people.al, conversation=conversation, text="Again")
    assert stream_rows(people.bea) == [("conversation.changed", conversation.pk, True)]


# --- Replying needs accepting -----------------------------------------------------------------


def test_replying_to_a_request_is_refused_until_accepted_and_nothing_is_stored(people):
    conversation = send(people.al, [people.bea]).conversation

    with pytest.raises(PermissionDenied, match="Accept this message request first"):
        services.message_send(sender=people.bea, conversation=conversation, text="Hi")
    assert not Message.objects.filter(sender=people.bea).exists()


def test_a_forged_post_from_a_request_page_shows_why_and_keeps_the_text(people, client_for, htmx):
    conversation = send(people.al, [people.bea]).conversation
    client = client_for(people.bea)

    response = client.post(
        reverse("conversation_post", args=[conversation.pk]), {"text": "Sneaky"}, **htmx
    )

    assert "Accept this message request first." in response.text
    assert "Sneaky" in response.text
    assert not Message.objects.filter(sender=people.bea).exists()


def test_a_request_cannot_be_managed_before_it_is_accepted(people):
    conversation = send(people.al, [people.bea, people.dee]).conversation
    with pytest.raises(PermissionDenied):
        services.conversation_add_people(
            conversation=conversation, by=people.bea, people=[people.eve]
        )
    with pytest.raises(PermissionDenied):
        services.conversation_rename(conversation=conversation, by=people.bea, name="Mine")
    assert Conversation.objects.get().name == ""


# --- Accept -------------------------------------------------------------------------------


def test_accepting_makes_it_an_ordinary_conversation_in_the_inbox(people, client_for):
    conversation = send(people.al, [people.bea], "Hi Bea").conversation
    client = client_for(people.bea)

    response = client.post(answer_url(conversation), {"answer": "accept"})

    assert response.status_code == 302
    assert response.url == conversation_url(conversation)
    assert row(conversation, people.bea).is_request is False
    assert [c.pk for c in client.get(INBOX).context["conversations"]] == [conversation.pk]
    assert request_count(people.bea) == 0
    # The reply that was refused before now goes through.
    services.message_send(sender=people.bea, conversation=conversation, text="Hi Al")
    assert Message.objects.filter(sender=people.bea, text="Hi Al").exists()


def test_accepted_request_counts_its_unread_messages_in_the_badge(people):
    conversation = send(people.al, [people.bea], "One").conversation
    services.message_send(sender=people.al, conversation=conversation, text="Two")
    assert unread_total(people.bea) == 0

    services.request_accept(conversation=conversation, user=people.bea)

    assert unread_total(people.bea) == 2


def test_accepting_with_htmx_navigates_to_the_conversation(people, client_for, htmx):
    conversation = send(people.al, [people.bea]).conversation
    response = client_for(people.bea).post(answer_url(conversation), {"answer": "accept"}, **htmx)
    assert response.headers["HX-Redirect"] == conversation_url(conversation)


def test_accepting_twice_is_harmless(people, client_for):
    conversation = send(people.al, [people.bea]).conversation
    client = client_for(people.bea)
    client.post(answer_url(conversation), {"answer": "accept"})
    response = client.post(answer_url(conversation), {"answer": "accept"})
    assert response.status_code == 302
    assert row(conversation, people.bea).is_request is False


def test_accepting_tells_only_the_accepters_own_tabs(people):
    conversation = send(people.al, [people.bea]).conversation
    before = Event.objects.count()
    services.request_accept(conversation=conversation, user=people.bea)
    new = Event.objects.order_by("pk")[before:]
    assert [(e.user_id, e.kind) for e in new] == [(people.bea.pk, "conversation.changed")]


def test_writing_to_the_person_who_sent_you_a_request_accepts_it(people):
    conversation = send(people.al, [people.bea]).conversation
    send(people.bea, [people.al], "Oh hi")
    assert row(conversation, people.bea).is_request is False
    assert Conversation.objects.count() == 1


# --- Decline ------------------------------------------------------------------------------


def test_declining_removes_it_for_good_and_the_sender_is_not_told(people, client_for):
    conversation = send(people.al, [people.bea], "Hi Bea").conversation
    bea = client_for(people.bea)

    response = bea.post(answer_url(conversation), {"answer": "decline"})

    assert response.status_code == 302
    assert response.url == REQUESTS
    assert bea.get(conversation_url(conversation)).status_code == 404
    assert bea.get(REQUESTS).context["conversations"] == []
    assert request_count(people.bea) == 0
    # Al's side is unchanged: Bea is still listed, and he can keep writing...
    al_page = client_for(people.al).get(conversation_url(conversation))
    assert al_page.status_code == 200
    assert [p.user for p in al_page.context["others"]] == [people.bea]
    before = Event.objects.filter(user=people.bea).count()
    send(people.al, [people.bea], "Hello again?")
    # ...into the same conversation, which never reaches Bea: no event, no unread.
    assert Conversation.objects.count() == 1
    assert Event.objects.filter(user=people.bea).count() == before
    assert row(conversation, people.bea).unread_count == 0
    assert unread_total(people.bea) == 0


def test_an_accepted_conversation_cannot_be_declined(people, client_for):
    conversation = send(people.al, [people.dee]).conversation
    response = client_for(people.dee).post(answer_url(conversation), {"answer": "decline"})
    assert response.status_code == 302
    assert row(conversation, people.dee).declined_at is None
    with pytest.raises(PermissionDenied):
        services.request_decline(conversation=conversation, user=people.dee)


def test_a_bad_answer_is_refused_and_changes_nothing(people, client_for):
    conversation = send(people.al, [people.bea]).conversation
    response = client_for(people.bea).post(answer_url(conversation), {"answer": "maybe"})
    assert response.status_code == 400
    assert row(conversation, people.bea).is_request is True


def test_strangers_and_senders_cannot_answer_someone_elses_request(people, client_for):
    conversation = send(people.al, [people.bea]).conversation
    assert (
        client_for(people.dee).post(answer_url(conversation), {"answer": "accept"}).status_code
        == 404
    )
    client_for(people.al).post(answer_url(conversation), {"answer": "decline"})
    assert row(conversation, people.al).declined_at is None
    assert row(conversation, people.bea).is_request is True


def test_answering_only_accepts_posts(people, client_for):
    conversation = send(people.al, [people.bea]).conversation
    assert client_for(people.bea).get(answer_url(conversation)).status_code == 405


# --- Block --------------------------------------------------------------------------------


def test_blocking_from_a_request_blocks_the_sender_and_declines(people, client_for):
    conversation = send(people.al, [people.bea], "Hi Bea").conversation
    bea = client_for(people.bea)

    response = bea.post(answer_url(conversation), {"answer": "block"}, follow=True)

    assert Block.objects.filter(blocker=people.bea, blocked=people.al).exists()
    assert row(conversation, people.bea).declined_at is not None
    assert "You blocked Al and declined the request." in response.text
    # Al can no longer write to Bea at all, and his conversation with her is gone for him too.
    with pytest.raises(ValidationError, match="You can't message Bea"):
        send(people.al, [people.bea], "Please")
    assert client_for(people.al).get(conversation_url(conversation)).status_code == 404


def test_blocking_from_a_group_request_blocks_whoever_added_you(people):
    conversation = send(people.al, [people.dee]).conversation
    services.conversation_add_people(conversation=conversation, by=people.dee, people=[people.bea])

    blocked = services.request_block(conversation=conversation, user=people.bea)

    assert blocked == people.dee
    assert list(Block.objects.values_list("blocker", "blocked")) == [(people.bea.pk, people.dee.pk)]
    # The group goes on for the others.
    services.message_send(sender=people.al, conversation=conversation, text="Still here")
