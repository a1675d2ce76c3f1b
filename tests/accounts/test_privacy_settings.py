"""The "who can message me" settings page (/settings/privacy/)."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import user_set_message_privacy

URL = "/settings/privacy/"
Privacy = User.MessagePrivacy


def test_the_page_is_a_labelled_radio_group_with_explanations(client_for, user):
    response = client_for(user).get(URL)

    assert response.status_code == 200
    page = response.text
    assert f'<form class="stack-form" method="post" action="{URL}"' in page
    assert "<legend>Who can start a conversation with you, or add you to one</legend>" in page
    for value, label in Privacy.choices:
        assert f'value="{value}"' in page
        assert f">{label}</label>" in page
    # Each radio is described by its explanation.
    assert 'aria-describedby="id_message_privacy_2-help"' in page
    assert "wait in your Requests until you accept them" in page
    # Its line in the settings navigation, marked as the current page.
    assert 'aria-current="page">Who can message me</a>' in page


def test_the_current_choice_is_checked(client_for, user):
    user_set_message_privacy(user=user, message_privacy=Privacy.FOLLOWING)
    page = client_for(user).get(URL).text
    checked = page[
        page.index('value="following"') : page.index("</label>", page.index('value="following"'))
    ]
    assert "checked" in checked
    everyone = page[
        page.index('value="everyone"') : page.index("</label>", page.index('value="everyone"'))
    ]
    assert "checked" not in everyone


@pytest.mark.parametrize("choice", Privacy.values)
def test_saving_a_choice_stores_it(client_for, user, choice):
    response = client_for(user).post(URL, {"message_privacy": choice}, follow=True)

    assert response.redirect_chain[-1][0] == URL
    assert "Saved:" in response.text
    user.refresh_from_db()
    assert user.message_privacy == choice


@pytest.mark.parametrize(
    ("data", "error"),
    [({}, "Choose who can message you."), ({"message_privacy": "friends"}, "Choose one of")],
)
def test_a_bad_choice_is_refused_with_a_message_and_nothing_changes(client_for, user, data, error):
    user_set_message_privacy(user=user, message_privacy=Privacy.NOBODY)

    response = client_for(user).post(URL, data)

    assert response.status_code == 400
    assert error in response.text
    assert 'role="alert"' in response.text
    user.refresh_from_db()
    assert user.message_privacy == Privacy.NOBODY


def test_the_service_refuses_an_unknown_choice(user):
    with pytest.raises(ValidationError):
        user_set_message_privacy(user=user, message_privacy="friends")
    user.refresh_from_db()
    assert user.message_privacy == Privacy.EVERYONE


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_page_costs_a_fixed_number_of_queries(client_for, user, django_assert_num_queries):
    client = client_for(user)
    client.get(URL)
    # session, user, the nav's unread badge
    with django_assert_num_queries(3):
        client.get(URL)
