"""Blocks where the first safety pass missed them (issue #7 follow-ups): the Send dialog's
people search, quoted replies in groups, the Requests count in other tabs, and the inbox's
quick reply into a conversation a block has hidden."""

import json
import uuid
from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts.services import user_block, user_unblock
from messaging import services
from messaging.models import Message
from tests.factories import PinFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
SEARCH = {**HTMX, "HTTP_HX_TARGET": "send-people"}


@pytest.fixture
def people(db):
    return SimpleNamespace(
        al=UserFactory(username="al", display_name="Al Sample"),
        bea=UserFactory(username="bea", display_name="Bea Sample"),
        cy=UserFactory(username="cy", display_name="Cy Sample"),
    )


def url(name, *args):
    return reverse(name, args=args)


# --- 1. The Send dialog's people search ---------------------------------------------------------


@pytest.fixture
def dialog(people):
    pin = PinFactory(board__owner=people.al)
    return f"{url('message_send_dialog')}?pin={pin.pk}"


@pytest.mark.parametrize("direction", ["al_blocked_bea", "bea_blocked_al"])
def test_the_people_search_never_lists_someone_across_a_block(
    people, dialog, client_for, direction
):
    if direction == "al_blocked_bea":
        user_block(blocker=people.al, blocked=people.bea)
    else:
        user_block(blocker=people.bea, blocked=people.al)
    client = client_for(people.al)

    response = client.get(dialog + "&q=sample", **SEARCH)

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


def test_the_people_search_still_lists_everyone_else(people, dialog, client_for):
    user_block(blocker=people.cy, blocked=people.bea)  # a block between two others
    response = client_for(people.al).get(dialog + "&q=sample", **SEARCH)
    assert [person.username for person in response.context["people"]] == ["bea", "cy"]


# --- 2. Quoted replies in a group ---------------------------------------------------------------


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


# --- 4. A quick reply into a conversation a block has hidden ------------------------------------


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
    people, hidden_chat, client_for
):
    response = quick_reply(client_for(people.al), hidden_chat, **HTMX)

    assert response.status_code == 403  # htmx swaps nothing: the text stays in the box
    toast = json.loads(response.headers["HX-Trigger"])["toast"]
    assert toast == {"message": "You can't message Bea Sample.", "level": "error"}
    assert "block" not in response.text.lower()
    assert not Message.objects.filter(text="Are you there?").exists()


def test_a_quick_reply_without_javascript_into_a_hidden_conversation_keeps_the_text(
    people, hidden_chat, client_for
):
    response = quick_reply(client_for(people.al), hidden_chat)

    assert response.status_code == 403
    assert "You can&#x27;t message Bea Sample." in response.text
    assert ">Are you there?</textarea>" in response.text
    assert "Hi Bea" not in response.text  # the conversation itself is not shown
    assert not Message.objects.filter(text="Are you there?").exists()


def test_the_blocker_is_refused_the_same_way(people, hidden_chat, client_for):
    response = quick_reply(client_for(people.bea), hidden_chat, **HTMX)
    assert response.status_code == 403
    assert "You can't message Al Sample." in response.headers["HX-Trigger"]


def test_an_empty_quick_reply_into_a_hidden_conversation_is_still_answered(
    people, hidden_chat, client_for
):
    response = quick_reply(client_for(people.al), hidden_chat, text="")
    assert response.status_code == 403
    assert "Write a reply first." in response.text


def test_quick_replies_work_again_after_unblocking(people, hidden_chat, client_for):
    user_unblock(blocker=people.bea, blocked=people.al)
    response = quick_reply(client_for(people.al), hidden_chat, **HTMX)
    assert response.status_code == 200
    assert Message.objects.filter(text="Are you there?", sender=people.al).exists()


def test_strangers_still_get_a_404(people, hidden_chat, client_for):
    assert quick_reply(client_for(people.cy), hidden_chat, **HTMX).status_code == 404
