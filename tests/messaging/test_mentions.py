"""@mentions: who a message names (fixed at send), their unread mentions and badge, how the
mention shows (a link, highlighted for the person named, escaped), and what a send costs."""

import uuid
from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts.services import user_block
from messaging import mentions, notifications, services
from messaging.inbox import unread_total
from messaging.models import Notification, NotificationKind, NotifyLevel, Participant
from tests.factories import UserFactory

# --- Finding mentions in text (no database) ---------------------------------------------------

NAMES = ["ada", "bea", "bea.jones", "cy"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@bea look", {"bea"}),
        ("@BEA look", {"bea"}),  # usernames match without regard to case
        ("thanks @Bea, and @cy.", {"bea", "cy"}),  # punctuation after the name ends it
        ("(@bea) and @cy!", {"bea", "cy"}),
        ("@bea? @cy:", {"bea", "cy"}),
        ("@bea.jones here", {"bea.jones"}),  # the longest name that fits
        ("@beatrice is not bea", set()),  # a longer word is not the name
        ("@bea_x is not bea", set()),
        ("write to bea@example.com", set()),  # an email address is not a mention
        ("a@bea.com", set()),
        ("mail x.y@cy", set()),
        ("@dan is not here", set()),  # only the names given
        ("@ bea", set()),
        ("@bea @bea @BEA", {"bea"}),  # each person once
        ("line one\n@cy", {"cy"}),
    ],
)
def test_finding_mentions(text, expected):
    assert mentions.mentioned_names(text, NAMES) == expected


def test_rendering_escapes_the_text_around_and_inside_mentions():
    bea = SimpleNamespace(pk=2, username="bea")
    html = mentions.render('@ada <script>alert("x")</script> & @bea\nbye', [bea], viewer_id=1)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " in html
    assert "@ada " in html  # not among the stored people: plain text
    assert '<a class="mention" href="/users/bea/">@bea</a><br>bye' in html


# --- Sending --------------------------------------------------------------------------------


@pytest.fixture
def people(db):
    return SimpleNamespace(
        ada=UserFactory(username="ada", display_name="Ada Archer"),
        bea=UserFactory(username="Bea", display_name="Bea Baker"),
        cy=UserFactory(username="cy", display_name="Cy Clark"),
        dan=UserFactory(username="dan", display_name="Dan Outsider"),
    )


@pytest.fixture
def group(people):
    return services.conversation_send(
        sender=people.ada, recipients=[people.bea, people.cy], text="Hello both"
    ).conversation


def send(conversation, sender, text):
    return services.message_send(sender=sender, conversation=conversation, text=text)


def part(conversation, person) -> Participant:
    return Participant.objects.get(conversation=conversation, user=person)


@pytest.fixture
def told(monkeypatch):
    """What the send passed to notifications.mentioned (the bell's stub): [(message, ids)]."""
    calls = []
    original = notifications.mentioned

    def record(message, user_ids):
        calls.append((message.pk, sorted(user_ids)))
        original(message, user_ids)

    monkeypatch.setattr(notifications, "mentioned", record)
    return calls


def test_a_mention_is_stored_and_counted_for_the_person_named(people, group, told):
    message = send(group, people.ada, "@bea, what do you think? Ask @dan and @ada too.")
    # Dan is not in the conversation and Ada is the sender: plain text, both.
    assert list(message.mentions.all()) == [people.bea]
    assert part(group, people.bea).unread_mentions == 1
    assert part(group, people.bea).unread_count == 2
    assert part(group, people.cy).unread_mentions == 0
    assert part(group, people.cy).unread_count == 2
    assert told == [(message.pk, [people.bea.pk])]


def test_duplicates_count_once_and_several_people_can_be_named(people, group, told):
    message = send(group, people.ada, "@Bea @bea @BEA and @cy")
    assert set(message.mentions.all()) == {people.bea, people.cy}
    assert part(group, people.bea).unread_mentions == 1
    assert part(group, people.cy).unread_mentions == 1
    assert told == [(message.pk, sorted([people.bea.pk, people.cy.pk]))]


def test_no_mention_stores_nothing_and_tells_nobody(people, group, told):
    message = send(group, people.ada, "mail me at ada@example.com")
    assert not message.mentions.exists()
    assert part(group, people.bea).unread_mentions == 0
    assert told == []


def test_someone_who_left_is_not_mentioned(people, group):
    services.conversation_leave(conversation=group, user=people.cy)
    message = send(group, people.ada, "@cy are you there?")
    assert not message.mentions.exists()


def test_a_mention_never_reaches_across_a_block(people, group, told):
    user_block(blocker=people.cy, blocked=people.ada)
    message = send(group, people.ada, "@cy and @bea")
    assert list(message.mentions.all()) == [people.bea]
    assert part(group, people.cy).unread_mentions == 0
    assert told == [(message.pk, [people.bea.pk])]


def test_a_muted_person_is_mentioned_but_not_told(people, group, told):
    services.conversation_set_level(conversation=group, user=people.cy, level=NotifyLevel.NONE)
    message = send(group, people.ada, "@cy and @bea")
    assert set(message.mentions.all()) == {people.bea, people.cy}
    assert told == [(message.pk, [people.bea.pk])]


def test_an_edit_neither_adds_nor_removes_mentions(people, group, told):
    message = send(group, people.ada, "@bea look")
    services.message_edit(message=message, editor=people.ada, text="@cy look")
    assert list(message.mentions.all()) == [people.bea]
    assert part(group, people.cy).unread_mentions == 0
    assert len(told) == 1


def test_mentions_are_stored_before_the_message_is_fanned_out(people, group):
    message = send(group, people.ada, "@bea only")
    services.conversation_set_level(conversation=group, user=people.bea, level=NotifyLevel.MENTIONS)
    services.conversation_set_level(conversation=group, user=people.cy, level=NotifyLevel.MENTIONS)
    reached = {r.user_id: r.mentioned for r in notifications.message_recipients(message)}
    assert reached == {people.bea.pk: True}


def test_a_mentions_only_badge_counts_mentions(people, group):
    for person in (people.bea, people.cy):
        services.conversation_set_level(conversation=group, user=person, level=NotifyLevel.MENTIONS)
        services.conversation_mark_read(conversation=group, user=person)
    send(group, people.ada, "news for everyone")
    assert unread_total(people.bea) == 0
    send(group, people.ada, "@bea this one is yours")
    assert unread_total(people.bea) == 1
    assert unread_total(people.cy) == 0
    services.conversation_mark_read(conversation=group, user=people.bea)
    assert part(group, people.bea).unread_mentions == 0
    assert unread_total(people.bea) == 0


# --- Showing them ---------------------------------------------------------------------------


def page(client, conversation) -> str:
    return client.get(reverse("conversation", args=[conversation.pk])).text


def test_the_mention_is_a_link_highlighted_only_for_the_person_named(people, group, client_for):
    send(group, people.ada, "@bea see this")
    for_bea = page(client_for(people.bea), group)
    assert (
        '<a class="mention mention--me" href="/users/Bea/"><mark>@bea</mark>'
        '<span class="visually-hidden"> (you)</span></a> see this'
    ) in for_bea
    for_cy = page(client_for(people.cy), group)
    assert '<a class="mention" href="/users/Bea/">@bea</a> see this' in for_cy
    assert "mention--me" not in for_cy


def test_mention_text_is_escaped(people, group, client_for):
    send(group, people.ada, "@ada <script>alert(1)</script> @cy <b>hi</b>")
    html = page(client_for(people.cy), group)
    assert "<script>alert(1)" not in html
    assert "@ada &lt;script&gt;alert(1)&lt;/script&gt; " in html
    assert '<mark>@cy</mark><span class="visually-hidden"> (you)</span></a> &lt;b&gt;hi' in html


def test_an_edited_in_mention_stays_plain_text(people, group, client_for):
    message = send(group, people.ada, "hello")
    services.message_edit(message=message, editor=people.ada, text="hello @cy")
    html = page(client_for(people.cy), group)
    assert "hello @cy</p>" in html


def test_the_composer_offers_the_other_people_for_mentions(people, group, client_for):
    html = page(client_for(people.ada), group)
    assert '<script id="mention-people" type="application/json">' in html
    assert '{"username": "Bea", "name": "Bea Baker"}' in html
    assert '"username": "ada"' not in html


@pytest.mark.parametrize("size", [2, 5])
def test_a_send_with_mentions_costs_the_same_queries_at_any_size(
    people, client_for, size, django_assert_num_queries, htmx
):
    others = [people.bea, people.cy] + [UserFactory() for _ in range(size - 2)]
    group = services.conversation_send(sender=people.ada, recipients=others, text="Hi").conversation
    for n in range(size):
        send(group, others[0], f"@ada number {n}")
    text = " ".join(f"@{person.username}" for person in others)
    data = {"text": text, "idempotency_key": str(uuid.uuid4())}
    # The plain send's 19 (tests/messaging/test_conversation.py), the people the text may
    # name, storing the mentions (one insert), and reading them back for the new message.
    client = client_for(people.ada)
    with django_assert_num_queries(22):
        response = client.post(reverse("conversation_post", args=[group.pk]), data, **htmx)
    assert response.status_code == 200
    assert all(part(group, person).unread_mentions == 1 for person in others)


def test_a_mention_puts_a_line_in_the_bell_of_the_person_named_only(
    people, group, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(group, people.ada, "@bea what about this one?")
    [line] = Notification.objects.filter(kind=NotificationKind.MENTION)
    assert line.recipient == people.bea
    assert line.last_actor == people.ada
    assert line.conversation_id == group.pk
    assert line.message_id == message.pk
    assert not Notification.objects.filter(recipient=people.cy, kind=NotificationKind.MENTION)
