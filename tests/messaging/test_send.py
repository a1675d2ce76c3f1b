"""The Send dialog (/messages/send/): the page and its htmx fragments, the people search, sends
to people and into recent conversations, refusals that store nothing, and the invitation offered
to the owner of a secret board."""

import json
import uuid

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from messaging.models import Conversation, Message
from messaging.services import conversation_send
from pinboard.models import BoardMember
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    FollowFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SEND_URL = reverse("message_send_dialog")
INVITE_URL = reverse("message_send_invite")


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", display_name="Ada Lovelace")


@pytest.fixture
def bram(db):
    return UserFactory(username="bram", display_name="Bram Stoker")


@pytest.fixture
def chen(db):
    return UserFactory(username="chen", display_name="Chen Wei")


@pytest.fixture
def shared_image(db):
    """One stored image reused by every pin, so bigger data sets stay quick to build."""
    return PinImageFactory()


@pytest.fixture
def pin(ada, shared_image):
    return PinFactory(
        board=BoardFactory(owner=ada, name="Sofas"), image=shared_image, title="Blue velvet sofa"
    )


@pytest.fixture
def secret_pin(ada, shared_image):
    board = BoardFactory(owner=ada, name="Surprise party", is_secret=True)
    return PinFactory(board=board, image=shared_image, title="The cake")


def send_url(**target) -> str:
    ((kind, value),) = target.items()
    return f"{SEND_URL}?{kind}={value}"


def post_data(*people, note="", key=None, **extra) -> dict:
    return {
        "to": [person.pk for person in people],
        "note": note,
        "idempotency_key": str(key or uuid.uuid4()),
        **extra,
    }


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


# --- The dialog -------------------------------------------------------------------------------


def test_the_send_page_shows_what_is_sent_recent_conversations_and_followed_people(
    client_for, ada, bram, chen, pin
):
    FollowFactory(follower=ada, followee=bram)
    conversation_send(sender=ada, recipients=[chen], text="Hi Chen")
    response = client_for(ada).get(send_url(pin=pin.pk))
    assert response.status_code == 200
    html = response.text
    assert "<html" in html
    assert '<h1 id="send-title">Send “Blue velvet sofa”</h1>' in html
    assert "Recent conversations" in html
    assert f'name="conversation" value="{Conversation.objects.get().pk}"' in html
    assert "Chen Wei" in html  # the recent conversation's title
    assert f'name="to" value="{bram.pk}"' in html  # followed: offered before any search
    assert f'name="to" value="{chen.pk}"' not in html  # not followed: found by searching
    assert 'name="idempotency_key"' in html


def test_htmx_gets_the_dialog_fragment_without_the_page(client_for, ada, pin, htmx):
    response = client_for(ada).get(send_url(pin=pin.pk), **htmx)
    html = response.text
    assert "<html" not in html
    assert html.lstrip().startswith('<dialog class="modal send-dialog" data-modal')
    assert '<h2 id="send-title">Send “Blue velvet sofa”</h2>' in html
    assert 'aria-label="Close"' in html


def test_each_rendering_of_the_dialog_carries_a_new_idempotency_key(client_for, ada, pin):
    client = client_for(ada)
    first = client.get(send_url(pin=pin.pk)).context["idempotency_key"]
    second = client.get(send_url(pin=pin.pk)).context["idempotency_key"]
    assert isinstance(first, uuid.UUID)
    assert first != second


@pytest.mark.parametrize("size", [3, 30])
def test_the_dialog_costs_the_same_queries_however_many_conversations_and_follows(
    client_for, ada, pin, size, django_assert_num_queries, htmx
):
    for _ in range(size):
        friend = UserFactory()
        FollowFactory(follower=ada, followee=friend)
        conversation_send(sender=ada, recipients=[friend, UserFactory()], text="Hello")
    client = client_for(ada)
    # Session, user, the pin, recent conversations, their people, the people offered.
    with django_assert_num_queries(6):
        response = client.get(send_url(pin=pin.pk), **htmx)
    assert len(response.context["recents"]) == min(size, 6)
    assert len(response.context["people"]) == min(size, 12)


def test_a_board_dialog_costs_one_more_query_for_its_cover(
    client_for, ada, bram, pin, django_assert_num_queries, htmx
):
    conversation_send(sender=ada, recipients=[bram], text="Hello")
    client = client_for(ada)
    with django_assert_num_queries(8):
        response = client.get(send_url(board=pin.board_id), **htmx)
    assert "Send the board “Sofas”" in response.text
    assert pin.image.grid.url in response.text


def test_a_send_to_people_costs_a_fixed_number_of_queries(
    client_for, ada, bram, chen, pin, django_assert_num_queries, htmx
):
    conversation_send(sender=ada, recipients=[bram], text="Hello")
    client = client_for(ada)
    # Among them, the two rate limits (a new conversation and a message): one upsert each; and
    # publishing, one statement (was 47: 11 per rate limit, 3 for publishing).
    with django_assert_num_queries(23):
        response = client.post(send_url(pin=pin.pk), post_data(chen), **htmx)
    assert response.status_code == 200
    assert Message.objects.filter(conversation__participants__user=chen).exists()


def test_naming_nothing_or_two_things_to_send_is_a_bad_request(client_for, ada, pin):
    client = client_for(ada)
    assert client.get(SEND_URL).status_code == 400
    both = f"{SEND_URL}?pin={pin.pk}&board={pin.board_id}"
    assert client.get(both).status_code == 400


def test_a_pin_the_sender_cannot_see_is_not_found(client_for, bram, secret_pin, chen):
    client = client_for(bram)
    assert client.get(send_url(pin=secret_pin.pk)).status_code == 404
    assert client.get(send_url(board=secret_pin.board_id)).status_code == 404
    response = client.post(send_url(pin=secret_pin.pk), post_data(chen))
    assert response.status_code == 404
    assert not Message.objects.exists()


@pytest.mark.parametrize("value", ["abc", "99999999999999999999999", "²"])
def test_a_malformed_pin_id_is_not_found(client_for, ada, value):
    assert client_for(ada).get(f"{SEND_URL}?pin={value}").status_code == 404


def test_an_inactive_profile_cannot_be_sent(client_for, ada):
    gone = UserFactory(username="gone", is_active=False)
    assert client_for(ada).get(send_url(profile=gone.username)).status_code == 404


def test_visitors_are_sent_to_log_in(client, pin):
    response = client.get(send_url(pin=pin.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    response = client.post(send_url(pin=pin.pk), {})
    assert response.status_code == 302
    assert not Message.objects.exists()


# --- The people search ------------------------------------------------------------------------


def test_people_search_lists_followed_people_first_never_inactive_people_or_the_sender(
    client_for, ada, pin, htmx_target
):
    UserFactory(username="sam_stranger", display_name="Sam Able")
    followed = UserFactory(username="sam_friend", display_name="Sam Zed")
    UserFactory(username="sam_gone", display_name="Sam Gone", is_active=False)
    FollowFactory(follower=ada, followee=followed)
    ada.display_name = "Sam Ada"
    ada.save()
    response = client_for(ada).get(send_url(pin=pin.pk) + "&q=sam", **htmx_target("send-people"))
    names = [person.username for person in response.context["people"]]
    assert names == ["sam_friend", "sam_stranger"]
    assert "Sam Gone" not in response.text
    assert f'value="{ada.pk}"' not in response.text


def test_the_live_search_returns_only_the_list_keeping_the_people_already_picked(
    client_for, ada, bram, chen, pin, htmx_target
):
    url = send_url(pin=pin.pk) + f"&q=chen&to={bram.pk}"
    response = client_for(ada).get(url, **htmx_target("send-people"))
    html = response.text
    assert html.lstrip().startswith('<div id="send-people"')
    assert "<dialog" not in html
    assert f'name="to" value="{bram.pk}" checked' in html
    assert f'name="to" value="{chen.pk}">' in html  # found, not yet picked


def test_without_javascript_search_reloads_the_form_keeping_picks_and_note_storing_nothing(
    client_for, ada, bram, chen, pin
):
    data = post_data(bram, note="Look", search="1", q="chen")
    response = client_for(ada).post(send_url(pin=pin.pk), data)
    html = response.text
    assert response.status_code == 200
    assert "<html" in html
    assert f'name="to" value="{bram.pk}" checked' in html
    assert f'name="to" value="{chen.pk}">' in html
    assert 'value="chen"' in html
    assert ">Look</textarea>" in html
    assert f'name="idempotency_key" value="{data["idempotency_key"]}"' in html
    assert "Choose at least one person" not in html
    assert not Conversation.objects.exists()


def test_a_search_link_can_name_people_already_picked(client_for, ada, bram, pin):
    response = client_for(ada).get(send_url(pin=pin.pk) + f"&to={bram.pk}&to=x&to={ada.pk}")
    assert response.context["picked"] == [bram]


def test_a_search_that_matches_nobody_says_so(client_for, ada, pin, htmx_target):
    response = client_for(ada).get(send_url(pin=pin.pk) + "&q=zzz", **htmx_target("send-people"))
    assert "Nobody else matches “zzz”." in response.text


# --- Sending ----------------------------------------------------------------------------------


def test_sending_a_pin_to_two_people_creates_their_conversation_with_the_pin_and_the_note(
    client_for, ada, bram, chen, pin
):
    response = client_for(ada).post(
        send_url(pin=pin.pk), post_data(bram, chen, note="For the living room?")
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("conversation", args=[conversation.pk])
    members = set(conversation.participants.values_list("user__username", flat=True))
    assert members == {"ada", "bram", "chen"}
    message = conversation.messages.get()
    assert (message.sender, message.kind, message.pin) == (ada, Message.Kind.PIN, pin)
    assert message.text == "For the living room?"


def test_without_javascript_the_next_page_says_who_it_was_sent_to(client_for, ada, bram, chen, pin):
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(chen, bram))
    flashed = [str(message) for message in get_messages(response.wsgi_request)]
    assert flashed == ["Sent to Bram Stoker and Chen Wei."]


def test_an_htmx_send_closes_the_dialog_with_a_toast_linking_to_the_conversation(
    client_for, ada, bram, chen, pin, htmx
):
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(bram, chen), **htmx)
    conversation = Conversation.objects.get()
    url = reverse("conversation", args=[conversation.pk])
    assert response.status_code == 200
    assert toast_of(response) == {
        "message": "Sent to Bram Stoker and Chen Wei.",
        "level": "success",
        "url": url,
        "linkText": "Open the conversation",
    }
    assert "closeSendDialog" in json.loads(response.headers["HX-Trigger-After-Settle"])
    assert f'href="{url}"' in response.text


def test_sending_again_to_the_same_people_reuses_their_conversation(
    client_for, ada, bram, chen, pin
):
    client = client_for(ada)
    client.post(send_url(pin=pin.pk), post_data(bram, chen))
    client.post(send_url(pin=pin.pk), post_data(chen, bram, note="Again"))
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 2


def test_sending_to_a_different_set_of_people_starts_another_conversation(
    client_for, ada, bram, chen, pin
):
    client = client_for(ada)
    client.post(send_url(pin=pin.pk), post_data(bram, chen))
    client.post(send_url(pin=pin.pk), post_data(bram))
    assert Conversation.objects.count() == 2
    pair = Message.objects.latest("id").conversation
    assert set(pair.participants.values_list("user__username", flat=True)) == {"ada", "bram"}


def test_sending_into_a_recent_conversation_posts_there(client_for, ada, bram, chen, pin, htmx):
    group = conversation_send(sender=bram, recipients=[ada, chen], text="Ideas?").conversation
    response = client_for(ada).post(
        send_url(pin=pin.pk), post_data(note="This one", conversation=group.pk), **htmx
    )
    assert Conversation.objects.count() == 1
    message = group.messages.latest("id")
    assert (message.sender, message.pin, message.text) == (ada, pin, "This one")
    assert toast_of(response)["message"] == "Sent to Bram Stoker and Chen Wei."


def test_a_conversation_the_sender_is_not_in_is_not_found(client_for, ada, bram, chen, pin):
    theirs = conversation_send(sender=bram, recipients=[chen], text="Private").conversation
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(conversation=theirs.pk))
    assert response.status_code == 404
    assert theirs.messages.count() == 1


def test_a_double_submit_with_the_same_key_sends_one_message(client_for, ada, bram, pin, htmx):
    client = client_for(ada)
    data = post_data(bram, note="Once")
    first = client.post(send_url(pin=pin.pk), data, **htmx)
    second = client.post(send_url(pin=pin.pk), data, **htmx)
    assert Message.objects.count() == 1
    assert toast_of(first) == toast_of(second)


def test_sending_a_board_makes_a_board_message(client_for, ada, bram, pin):
    client_for(ada).post(send_url(board=pin.board_id), post_data(bram))
    message = Message.objects.get()
    assert (message.kind, message.board) == (Message.Kind.BOARD, pin.board)


def test_sending_a_profile_makes_a_profile_message(client_for, ada, bram, chen):
    client_for(ada).post(send_url(profile="CHEN"), post_data(bram, note="Meet Chen"))
    message = Message.objects.get()
    assert (message.kind, message.profile, message.text) == (
        Message.Kind.PROFILE,
        chen,
        "Meet Chen",
    )


# --- Refusals store nothing -------------------------------------------------------------------


def test_choosing_nobody_is_refused_and_stores_nothing(client_for, ada, pin, htmx):
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(note="Hello?"), **htmx)
    assert response.status_code == 200
    assert "Choose at least one person." in response.text
    assert "Hello?" in response.text  # the note is kept
    assert not Conversation.objects.exists()


def test_ten_people_are_refused_with_the_limit_and_nothing_is_stored(client_for, ada, pin):
    people = UserFactory.create_batch(10)
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(*people))
    assert response.status_code == 400
    assert "You can send to up to 9 people at once." in response.text
    assert not Conversation.objects.exists()
    # Everyone stays picked, so one can be unticked.
    assert all(f'value="{p.pk}" checked' in response.text for p in people)


def test_nine_people_are_allowed(client_for, ada, pin):
    people = UserFactory.create_batch(9)
    client_for(ada).post(send_url(pin=pin.pk), post_data(*people))
    assert Conversation.objects.get().participants.count() == 10


def test_a_note_over_the_limit_is_refused_and_kept(client_for, ada, bram, pin, htmx):
    note = "x" * 2001
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(bram, note=note), **htmx)
    assert "Messages can be up to 2,000 characters; this one has 2,001." in response.text
    assert note in response.text
    assert not Message.objects.exists()


def test_a_refused_send_keeps_its_idempotency_key(client_for, ada, pin, htmx):
    key = uuid.uuid4()
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(key=key), **htmx)
    assert f'name="idempotency_key" value="{key}"' in response.text


def test_a_form_without_its_key_is_refused_as_out_of_date(client_for, ada, bram, pin, htmx):
    data = post_data(bram)
    del data["idempotency_key"]
    response = client_for(ada).post(send_url(pin=pin.pk), data, **htmx)
    assert "This form is out of date." in response.text
    assert not Message.objects.exists()


def test_an_inactive_person_cannot_be_picked(client_for, ada, pin, htmx):
    gone = UserFactory(is_active=False)
    response = client_for(ada).post(send_url(pin=pin.pk), post_data(gone), **htmx)
    assert "Someone you chose can&#x27;t be messaged." in response.text
    assert not Message.objects.exists()


def test_a_secret_pin_sent_to_a_stranger_is_refused_with_their_name(
    client_for, ada, bram, chen, secret_pin, htmx
):
    BoardMemberFactory(board=secret_pin.board, user=chen)  # Chen collaborates, so Chen sees it
    response = client_for(ada).post(
        send_url(pin=secret_pin.pk), post_data(bram, chen, note="Shh"), **htmx
    )
    html = response.text
    assert "Bram Stoker can&#x27;t see this secret pin, so it was not sent." in html
    assert "Chen Wei can" not in html
    assert not Conversation.objects.exists()
    # The people and the note are kept; the owner is offered to invite the one who can't see it.
    assert f'name="to" value="{bram.pk}" checked' in html
    assert f'name="to" value="{chen.pk}" checked' in html
    assert "Shh" in html
    assert "Invite them to “Surprise party” as collaborators" in html
    assert f'<input type="hidden" name="invite" value="{bram.pk}">' in html
    assert f'name="invite" value="{chen.pk}"' not in html


def test_a_collaborator_sending_a_secret_pin_is_refused_without_the_invite_offer(
    client_for, bram, chen, secret_pin, htmx
):
    BoardMemberFactory(board=secret_pin.board, user=bram)
    response = client_for(bram).post(send_url(pin=secret_pin.pk), post_data(chen), **htmx)
    assert "Chen Wei can&#x27;t see this secret pin" in response.text
    assert "Invite them" not in response.text
    assert not Conversation.objects.exists()


def test_a_secret_pin_sent_into_a_conversation_with_a_stranger_is_refused(
    client_for, ada, bram, secret_pin, htmx
):
    pair = conversation_send(sender=ada, recipients=[bram], text="Hi").conversation
    response = client_for(ada).post(
        send_url(pin=secret_pin.pk), post_data(conversation=pair.pk), **htmx
    )
    assert "Bram Stoker can&#x27;t see this secret pin" in response.text
    assert f'name="invite" value="{bram.pk}"' in response.text
    assert pair.messages.count() == 1


# --- Inviting the people who can't see it -----------------------------------------------------


def test_the_owner_invites_those_who_cannot_see_and_the_dialog_says_so(
    client_for, ada, bram, chen, secret_pin, htmx
):
    BoardMemberFactory(board=secret_pin.board, user=chen)
    data = post_data(bram, chen, note="Shh", invite=[bram.pk])
    response = client_for(ada).post(f"{INVITE_URL}?pin={secret_pin.pk}", data, **htmx)
    assert response.status_code == 200
    invitation = BoardMember.objects.get(user=bram)
    assert (invitation.board, invitation.status) == (secret_pin.board, BoardMember.Status.INVITED)
    assert invitation.invited_by == ada
    html = response.text
    assert "Invited Bram Stoker to “Surprise party”. They can see it once they accept" in html
    assert f'name="to" value="{bram.pk}" checked' in html
    assert "Shh" in html
    assert f'name="idempotency_key" value="{data["idempotency_key"]}"' in html
    assert not Message.objects.exists()


def test_an_invitation_alone_does_not_let_the_send_through(client_for, ada, bram, secret_pin, htmx):
    client = client_for(ada)
    client.post(f"{INVITE_URL}?pin={secret_pin.pk}", post_data(bram, invite=[bram.pk]))
    response = client.post(send_url(pin=secret_pin.pk), post_data(bram), **htmx)
    assert "Bram Stoker can&#x27;t see this secret pin" in response.text
    assert not Message.objects.exists()


def test_a_collaborator_cannot_invite_people_from_the_send_dialog(
    client_for, bram, chen, secret_pin
):
    BoardMemberFactory(board=secret_pin.board, user=bram)
    response = client_for(bram).post(
        f"{INVITE_URL}?pin={secret_pin.pk}", post_data(chen, invite=[chen.pk])
    )
    assert response.status_code == 403
    assert not BoardMember.objects.filter(user=chen).exists()


def test_a_stranger_cannot_invite_people_to_a_board_they_cannot_see(
    client_for, bram, chen, secret_pin
):
    response = client_for(bram).post(
        f"{INVITE_URL}?board={secret_pin.board_id}", post_data(chen, invite=[chen.pk])
    )
    assert response.status_code == 404
    assert not BoardMember.objects.exists()


def test_the_invite_endpoint_only_answers_posts(client_for, ada, secret_pin):
    response = client_for(ada).get(f"{INVITE_URL}?pin={secret_pin.pk}")
    assert response.status_code == 405


# --- Send buttons -----------------------------------------------------------------------------


def test_signed_in_people_get_send_buttons_on_pins_boards_and_profiles(client_for, ada, bram, pin):
    client = client_for(bram)
    pin_page = client.get(pin.get_absolute_url()).text
    assert f'href="{send_url(pin=pin.pk)}" hx-get="{send_url(pin=pin.pk)}"' in pin_page
    board_page = client.get(pin.board.get_absolute_url()).text
    assert f'href="{send_url(board=pin.board_id)}"' in board_page
    profile_page = client.get(ada.get_absolute_url()).text
    assert f'href="{send_url(profile="ada")}"' in profile_page
    assert ">Send profile</a>" in profile_page


def test_pin_cards_carry_a_send_button_for_signed_in_people(client_for, ada, bram, pin):
    board_page = client_for(bram).get(pin.board.get_absolute_url()).text
    assert 'class="btn btn--small pin-card__send"' in board_page


def test_no_send_profile_button_on_your_own_profile(client_for, ada):
    assert "Send profile" not in client_for(ada).get(ada.get_absolute_url()).text


def test_visitors_get_no_send_buttons(client, pin):
    for url in (pin.get_absolute_url(), pin.board.get_absolute_url()):
        assert SEND_URL not in client.get(url).text


def test_the_note_keeps_line_breaks_as_typed(client_for, ada, bram, pin):
    client_for(ada).post(send_url(pin=pin.pk), post_data(bram, note="one\r\ntwo"))
    assert Message.objects.get().text == "one\ntwo"


def test_a_recent_conversations_send_ignores_the_boxes_ticked_below(client_for, ada, bram, pin):
    pair = conversation_send(sender=ada, recipients=[bram], text="Hi").conversation
    many = UserFactory.create_batch(10)
    client_for(ada).post(send_url(pin=pin.pk), post_data(*many, conversation=pair.pk))
    assert pair.messages.latest("id").pin == pin
    assert Conversation.objects.count() == 1
