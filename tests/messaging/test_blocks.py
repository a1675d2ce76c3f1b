"""Blocks inside messaging, by behaviour: no messaging across a block either way (nor finding
each other in the Send dialog), one-to-one conversations hidden from both (and a quick reply
into one answered with why), a blocked person's messages and quotes collapsed for the blocker in
groups, and the Block button on a conversation's Manage page."""

import json
import uuid
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accounts.models import Block
from accounts.services import user_block, user_unblock
from messaging import live, services
from messaging.inbox import unread_total
from messaging.models import Conversation, Message, Participant
from messaging.permissions import can_message
from tests.factories import PinFactory, UserFactory

INBOX = "/messages/"


@pytest.fixture
def people(db):
    return SimpleNamespace(
        al=UserFactory(username="al", display_name="Al"),
        bea=UserFactory(username="bea", display_name="Bea"),
        cy=UserFactory(username="cy", display_name="Cy"),
    )


def send(sender, recipients, text="Hello", **kwargs):
    return services.conversation_send(sender=sender, recipients=recipients, text=text, **kwargs)


def url(name, *args):
    return reverse(name, args=args)


# --- can_message ----------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["sender_blocked", "recipient_blocked"])
def test_can_message_refuses_across_a_block_either_way(people, direction):
    assert can_message(people.al, people.bea)
    if direction == "sender_blocked":
        user_block(blocker=people.bea, blocked=people.al)
    else:
        user_block(blocker=people.al, blocked=people.bea)
    assert not can_message(people.al, people.bea)
    assert not can_message(people.bea, people.al)
    assert can_message(people.al, people.cy)


def test_unblocking_lets_them_message_again(people):
    user_block(blocker=people.bea, blocked=people.al)
    user_unblock(blocker=people.bea, blocked=people.al)
    assert can_message(people.al, people.bea)
    send(people.al, [people.bea])


# --- Refused sends store nothing --------------------------------------------------------------


def test_starting_a_conversation_with_someone_who_blocked_you_is_refused(people):
    user_block(blocker=people.bea, blocked=people.al)

    with pytest.raises(ValidationError) as refused:
        send(people.al, [people.bea, people.cy])

    assert refused.value.messages == ["You can't message Bea."]  # neutral: never says why

    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_the_send_dialog_refuses_with_a_neutral_message_and_keeps_the_note(
    people, client_for, htmx
):
    pin = PinFactory(board__owner=people.al)
    user_block(blocker=people.bea, blocked=people.al)
    dialog = f"{url('message_send_dialog')}?pin={pin.pk}"

    response = client_for(people.al).post(
        dialog,
        {"to": [people.bea.pk], "note": "Look at this", "idempotency_key": str(uuid.uuid4())},
        **htmx,
    )

    assert response.status_code == 200
    assert "You can&#x27;t message Bea." in response.text
    assert "block" not in response.text.lower().replace("blocks", "")  # never says why
    assert "Look at this" in response.text
    assert not Message.objects.exists()


def test_adding_someone_across_a_block_is_refused(people, client_for):
    conversation = send(people.al, [people.cy]).conversation
    user_block(blocker=people.bea, blocked=people.al)

    response = client_for(people.al).post(
        url("conversation_add_people", conversation.pk), {"usernames": "bea"}
    )

    assert response.status_code == 400
    assert "You can&#x27;t message Bea." in response.text
    assert 'value="bea"' in response.text  # what was typed is kept
    assert not Participant.objects.filter(user=people.bea).exists()


def test_someone_else_in_the_group_may_still_add_them(people):
    conversation = send(people.al, [people.cy]).conversation
    user_block(blocker=people.bea, blocked=people.al)

    services.conversation_add_people(conversation=conversation, by=people.cy, people=[people.bea])

    assert Participant.objects.filter(conversation=conversation, user=people.bea).exists()


# --- The Send dialog's people search ---------------------------------------------------------


@pytest.fixture
def dialog(people):
    """The Send dialog for Al's pin. Everyone shares the surname Sample: one search finds all."""
    for person in vars(people).values():
        person.display_name += " Sample"
        person.save(update_fields=["display_name"])
    pin = PinFactory(board__owner=people.al)
    return f"{url('message_send_dialog')}?pin={pin.pk}"


@pytest.mark.parametrize("direction", ["al_blocked_bea", "bea_blocked_al"])
def test_the_people_search_never_lists_someone_across_a_block(
    people, dialog, client_for, direction, htmx_target
):
    if direction == "al_blocked_bea":
        user_block(blocker=people.al, blocked=people.bea)
    else:
        user_block(blocker=people.bea, blocked=people.al)
    client = client_for(people.al)

    response = client.get(dialog + "&q=sample", **htmx_target("send-people"))

    assert [person.username for person in response.context["people"]] == ["cy"]
    assert "Bea Sample" not in response.text
    assert f'value="{people.bea.pk}"' not in response.text
    # Not as a pick named in a link either, nor in the no-JavaScript search.
    response = client.get(dialog + f"&q=sample&to={people.bea.pk}&to={people.cy.pk}")
    assert response.context["picked"] == [people.cy]
    assert "Bea Sample" not in response.text
    data = {"q": "bea", "search": "1", "note": "", "idempotency_key": str(uuid.uuid4())}
    response = client.post(dialog, data)
    assert response.context["people"] == []
    assert "Nobody else matches “bea”." in response.text


def test_the_people_search_still_lists_everyone_else(people, dialog, client_for, htmx_target):
    user_block(blocker=people.cy, blocked=people.bea)  # a block between two others
    response = client_for(people.al).get(dialog + "&q=sample", **htmx_target("send-people"))
    assert [person.username for person in response.context["people"]] == ["bea", "cy"]


# --- One-to-one conversations are hidden from both --------------------------------------------


@pytest.fixture
def blocked_chat(people):
    """Al and Bea talked; then Bea blocked Al. Al also has a conversation with Cy."""
    chat = send(people.al, [people.bea], "Hi Bea").conversation
    services.message_send(sender=people.bea, conversation=chat, text="Hi Al")
    services.message_send(sender=people.al, conversation=chat, text="Unread for Bea")
    other = send(people.al, [people.cy], "Hi Cy").conversation
    user_block(blocker=people.bea, blocked=people.al)
    return SimpleNamespace(chat=chat, other=other)


@pytest.mark.parametrize("who", ["al", "bea"])
def test_a_one_to_one_conversation_is_hidden_from_both(people, blocked_chat, client_for, who):
    person = getattr(people, who)
    client = client_for(person)

    inbox = client.get(INBOX)
    assert blocked_chat.chat.pk not in [c.pk for c in inbox.context["conversations"]]
    assert client.get(url("conversation", blocked_chat.chat.pk)).status_code == 404
    assert client.get(url("conversation_manage", blocked_chat.chat.pk)).status_code == 404
    assert client.get(url("inbox_row", blocked_chat.chat.pk)).status_code == 404
    assert unread_total(person) == 0


def test_the_badge_still_counts_groups_and_chats_everyone_else_left(people):
    """Only a conversation in which everyone else still there is blocked is hidden: a group
    with the blocked person in it still counts, and so does one everybody else has left."""
    group = send(people.al, [people.bea, people.cy], "Group plan").conversation
    lonely = send(people.cy, [people.bea], "Bye").conversation
    services.conversation_leave(conversation=lonely, user=people.cy)
    user_block(blocker=people.bea, blocked=people.al)

    unread = Participant.objects.filter(user=people.bea, conversation__in=[group, lonely])
    assert unread_total(people.bea) == sum(unread.values_list("unread_count", flat=True)) == 2


def test_unblocking_brings_the_conversation_back(people, blocked_chat, client_for):
    user_unblock(blocker=people.bea, blocked=people.al)
    assert unread_total(people.bea) == 1
    assert client_for(people.bea).get(url("conversation", blocked_chat.chat.pk)).status_code == 200


def test_the_composer_of_a_hidden_conversation_refuses_and_keeps_the_text(
    people, blocked_chat, client_for, htmx
):
    post = url("conversation_post", blocked_chat.chat.pk)
    client = client_for(people.al)

    response = client.post(post, {"text": "Are you there?"}, **htmx)

    assert response.status_code == 200
    assert "You can&#x27;t message Bea." in response.text
    assert "Are you there?" in response.text
    assert "Hi Bea" not in response.text  # the conversation itself is not shown
    assert not Message.objects.filter(text="Are you there?").exists()

    # Without JavaScript: back to the inbox, which says why.
    response = client.post(post, {"text": "Are you there?"}, follow=True)
    assert response.redirect_chain[-1][0] == INBOX
    assert "You can&#x27;t message Bea." in response.text
    assert not Message.objects.filter(text="Are you there?").exists()


def test_the_service_refuses_a_message_into_a_hidden_conversation(people, blocked_chat):
    with pytest.raises(ValidationError, match="You can't message Al"):
        services.message_send(sender=people.bea, conversation=blocked_chat.chat, text="Hi")
    assert not Message.objects.filter(text="Hi", sender=people.bea).exists()


def stream_rows(user) -> list[tuple]:
    """What the person's event stream would send (messaging/live.py's read, on this test's
    connection, so it sees this test's rows)."""
    with connection.cursor() as cursor:
        cursor.execute(*live.EVENTS.bind(user=user.pk, after=0))
        return [row for row in cursor.fetchall() if row[-1]]  # the visible ones


def test_a_hidden_conversation_sends_no_live_events(people, blocked_chat):
    """Not even the events recorded before the block: the stream re-checks when it reads."""
    for person in (people.al, people.bea):
        conversations = {row[2] for row in stream_rows(person)}
        assert blocked_chat.chat.pk not in conversations
    assert blocked_chat.other.pk in {row[2] for row in stream_rows(people.al)}
    user_unblock(blocker=people.bea, blocked=people.al)
    assert blocked_chat.chat.pk in {row[2] for row in stream_rows(people.bea)}


# --- A quick reply into a conversation a block has hidden ------------------------------------


@pytest.fixture
def hidden_chat(people):
    """Al and Bea talked one to one; then Bea blocked Al (Al's inbox tab is still open)."""
    chat = services.conversation_send(sender=people.al, recipients=[people.bea], text="Hi Bea")
    user_block(blocker=people.bea, blocked=people.al)
    return chat.conversation


def quick_reply(client, conversation, text="Are you there?", **headers):
    data = {"text": text, "idempotency_key": str(uuid.uuid4())}
    return client.post(url("conversation_quick_reply", conversation.pk), data, **headers)


def test_a_quick_reply_with_htmx_into_a_hidden_conversation_says_why_in_a_toast(
    people, hidden_chat, client_for, htmx
):
    response = quick_reply(client_for(people.al), hidden_chat, **htmx)

    assert response.status_code == 403  # htmx swaps nothing: the text stays in the box
    toast = json.loads(response.headers["HX-Trigger"])["toast"]
    assert toast == {"message": "You can't message Bea.", "level": "error"}
    assert "block" not in response.text.lower()
    assert not Message.objects.filter(text="Are you there?").exists()


def test_a_quick_reply_without_javascript_into_a_hidden_conversation_keeps_the_text(
    people, hidden_chat, client_for
):
    response = quick_reply(client_for(people.al), hidden_chat)

    assert response.status_code == 403
    assert "You can&#x27;t message Bea." in response.text
    assert ">Are you there?</textarea>" in response.text
    assert "Hi Bea" not in response.text  # the conversation itself is not shown
    assert not Message.objects.filter(text="Are you there?").exists()


def test_the_blocker_is_refused_the_same_way(people, hidden_chat, client_for, htmx):
    response = quick_reply(client_for(people.bea), hidden_chat, **htmx)
    assert response.status_code == 403
    assert "You can't message Al." in response.headers["HX-Trigger"]


def test_an_empty_quick_reply_into_a_hidden_conversation_is_still_answered(
    people, hidden_chat, client_for
):
    response = quick_reply(client_for(people.al), hidden_chat, text="")
    assert response.status_code == 403
    assert "Write a reply first." in response.text


def test_quick_replies_work_again_after_unblocking(people, hidden_chat, client_for, htmx):
    user_unblock(blocker=people.bea, blocked=people.al)
    response = quick_reply(client_for(people.al), hidden_chat, **htmx)
    assert response.status_code == 200
    assert Message.objects.filter(text="Are you there?", sender=people.al).exists()


def test_strangers_still_get_a_404(people, hidden_chat, client_for, htmx):
    assert quick_reply(client_for(people.cy), hidden_chat, **htmx).status_code == 404


# --- Groups stay usable -----------------------------------------------------------------------


@pytest.fixture
def group(people):
    conversation = send(people.al, [people.bea, people.cy], "Hi all").conversation
    services.message_send(sender=people.bea, conversation=conversation, text="Bea was here")
    user_block(blocker=people.al, blocked=people.bea)
    return conversation


def test_in_a_group_the_blocked_persons_messages_are_collapsed_for_the_blocker(
    people, group, client_for
):
    page = client_for(people.al).get(url("conversation", group.pk))

    assert page.status_code == 200
    assert page.text.count("<summary>Message from someone you blocked</summary>") == 1
    collapsed = page.text.index("Message from someone you blocked")
    assert page.text.index("Bea was here") > collapsed  # still there, inside the <details>
    assert 'id="composer"' in page.text
    assert (
        "Message from someone you blocked"
        not in client_for(people.cy).get(url("conversation", group.pk)).text
    )
    assert (
        "Message from someone you blocked"
        not in client_for(people.bea).get(url("conversation", group.pk)).text
    )


def test_a_group_stays_usable_for_everyone(people, group):
    for person in (people.al, people.bea, people.cy):
        services.message_send(sender=person, conversation=group, text=f"From {person.name}")
    assert Message.objects.filter(conversation=group).count() == 5


def test_the_inbox_preview_of_a_blocked_persons_message_is_collapsed_too(people, group, client_for):
    inbox = client_for(people.al).get(INBOX)
    assert "Message from someone you blocked" in inbox.text
    assert "Bea was here" not in inbox.text


def test_collapsed_messages_cost_no_extra_query(
    people, group, client_for, django_assert_num_queries
):
    client = client_for(people.al)
    client.get(url("conversation", group.pk))
    for n in range(20):
        services.message_send(sender=people.bea, conversation=group, text=f"Bea {n}")
    client.get(url("conversation", group.pk))
    # Session, user, conversation; marking read (savepoint, update, release); messages and their
    # prefetches; participants; the nav badge; the composer's pins and boards.
    with django_assert_num_queries(11):
        client.get(url("conversation", group.pk))


# --- Quoted replies in a group ---------------------------------------------------------------


@pytest.fixture
def quoted_group(people):
    """Al, Bea and Cy in a group; Cy replies to Bea's pin; then Al blocks Bea."""
    conversation = services.conversation_send(
        sender=people.al, recipients=[people.bea, people.cy], text="Hi all"
    ).conversation
    pin = PinFactory(board__owner=people.bea, title="Bea's secret garden")
    card = services.message_send(
        sender=people.bea,
        conversation=conversation,
        text="Bea's own words",
        attachment=services.Attachment(pin=pin),
    )
    services.message_send(
        sender=people.cy, conversation=conversation, text="Cy answers", reply_to=card
    )
    user_block(blocker=people.al, blocked=people.bea)
    return conversation


QUOTE_SUMMARY = "<summary>Quoted message from someone you blocked</summary>"


def test_a_quote_of_a_blocked_persons_message_is_collapsed_for_the_blocker(
    people, quoted_group, client_for
):
    html = client_for(people.al).get(url("conversation", quoted_group.pk)).text

    assert html.count(QUOTE_SUMMARY) == 1
    cy_says = html.index("Cy answers")
    quote_at = html.index(QUOTE_SUMMARY)
    # Cy's own message is not collapsed: the collapsed quote sits inside it, before its text,
    # and the quoted title is behind the summary.
    assert html.index('class="quote"', quote_at) < cy_says
    assert html.rindex("Bea&#x27;s secret garden", 0, cy_says) > quote_at


def test_others_see_the_quote_as_before(people, quoted_group, client_for):
    for person in (people.bea, people.cy):
        html = client_for(person).get(url("conversation", quoted_group.pk)).text
        assert QUOTE_SUMMARY not in html
        assert 'class="quote"' in html


@pytest.mark.parametrize("size", [2, 20])
def test_collapsed_quotes_cost_no_extra_query(
    people, quoted_group, client_for, django_assert_num_queries, size
):
    client = client_for(people.al)
    client.get(url("conversation", quoted_group.pk))
    card = quoted_group.messages.get(text="Bea's own words")
    for n in range(size):
        services.message_send(
            sender=people.cy, conversation=quoted_group, text=f"Cy {n}", reply_to=card
        )
    client.get(url("conversation", quoted_group.pk))
    # As test_blocks.test_collapsed_messages_cost_no_extra_query, plus the quoted messages and
    # the pin card's one query (messaging/cards.py; was 15): the flags ride on the page's own
    # query.
    with django_assert_num_queries(13):
        html = client.get(url("conversation", quoted_group.pk)).text
    assert html.count(QUOTE_SUMMARY) == size + 1


# --- The Manage page's Block button ----------------------------------------------------------


def test_manage_page_offers_block_for_each_other_person(people, client_for):
    conversation = send(people.al, [people.bea, people.cy]).conversation
    page = client_for(people.al).get(url("conversation_manage", conversation.pk)).text

    for username in ("bea", "cy"):
        assert f'action="{url("conversation_block", conversation.pk, username)}"' in page
    assert url("conversation_block", conversation.pk, "al") not in page


def test_blocking_from_a_groups_manage_page_collapses_their_messages(people, client_for):
    conversation = send(people.al, [people.bea, people.cy]).conversation
    client = client_for(people.al)

    response = client.post(url("conversation_block", conversation.pk, "bea"), follow=True)

    assert Block.objects.filter(blocker=people.al, blocked=people.bea).exists()
    assert response.redirect_chain[-1][0] == url("conversation", conversation.pk)
    assert "You blocked Bea. Their messages here are collapsed for you." in response.text
    manage = client.get(url("conversation_manage", conversation.pk)).text
    assert "Unblock in settings" in manage
    assert url("conversation_block", conversation.pk, "bea") not in manage


def test_blocking_from_a_one_to_one_goes_back_to_the_inbox(people, client_for):
    conversation = send(people.al, [people.bea]).conversation

    response = client_for(people.al).post(
        url("conversation_block", conversation.pk, "bea"), follow=True
    )

    assert response.redirect_chain[-1][0] == INBOX
    assert "You won&#x27;t see this conversation again." in response.text
    assert client_for(people.bea).get(url("conversation", conversation.pk)).status_code == 404


def test_only_people_in_the_conversation_can_be_blocked_from_it(people, client_for):
    conversation = send(people.al, [people.bea]).conversation
    client = client_for(people.al)
    assert client.post(url("conversation_block", conversation.pk, "cy")).status_code == 404
    assert (
        client_for(people.cy).post(url("conversation_block", conversation.pk, "bea")).status_code
        == 404
    )
    assert client.get(url("conversation_block", conversation.pk, "bea")).status_code == 405
    assert not Block.objects.exists()


def test_blocking_yourself_is_refused(people, client_for):
    conversation = send(people.al, [people.bea]).conversation
    response = client_for(people.al).post(
        url("conversation_block", conversation.pk, "al"), follow=True
    )
    assert "You can&#x27;t block yourself." in response.text
    assert not Block.objects.exists()
