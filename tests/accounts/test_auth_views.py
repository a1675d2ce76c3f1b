"""Sign-up, login, logout and password reset through allauth, with bad input explained."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "newperson",
    "email": "newperson@example.com",
    "password1": "a-long-pass-phrase-42",
    "password2": "a-long-pass-phrase-42",
}


def signup(client, **changes):
    return client.post(reverse("account_signup"), {**SIGNUP, **changes})


def test_signup_creates_an_unverified_user_and_emails_a_link(client, mailoutbox):
    response = signup(client)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    person = User.objects.get(username="newperson")
    assert not EmailAddress.objects.get(user=person).verified
    assert re.search(r"/accounts/confirm-email/\S+/", mailoutbox[0].body)


def test_unverified_user_cannot_log_in_until_they_confirm(client):
    signup(client)
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "newperson", "password": SIGNUP["password1"]}
    )
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": "Alice"}, "username", "A user with that username already exists."),
        ({"password2": "something-else-99"}, "password2", "You must type the same password"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"username": "admin"}, "username", "Username can not be used"),
        ({"password1": "123", "password2": "123"}, "password1", "This password is too short"),
    ],
)
def test_bad_signup_input_gets_a_field_error_and_creates_no_user(
    client, user, changes, field, message
):
    response = signup(client, **changes)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert not User.objects.filter(email=SIGNUP["email"]).exists()
    # What the person typed is kept (passwords excepted, by design).
    assert f'value="{changes.get("email", SIGNUP["email"])}"' in response.text


def test_taken_email_creates_no_account_and_tells_only_the_owner(client, user, mailoutbox):
    # allauth prevents account enumeration: the form looks like it worked, and the email's owner
    # is told someone tried to sign up with their address.
    response = signup(client, email=user.email)
    assert response.status_code == 302
    assert not User.objects.filter(username="newperson").exists()
    assert mailoutbox[0].to == [user.email]
    assert "already" in mailoutbox[0].body


@pytest.mark.parametrize("login", ["alice", "alice@example.com", "ALICE"])
def test_login_by_username_or_email(client, user, login):
    response = client.post(reverse("account_login"), {"login": login, "password": "pinboard-demo"})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_wrong_password_is_refused_with_a_message(client, user):
    response = client.post(reverse("account_login"), {"login": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "The username and/or password you specified are not correct." in response.text
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client_for, user):
    client = client_for(user)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email_sets_a_new_password(client, user, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    assert len(mailoutbox) == 1
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+/)", mailoutbox[0].body)
    assert link, mailoutbox[0].body
    # allauth moves the key into the session and redirects to a key-less URL.
    form_page = client.get(link.group(1), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "brand-new-pass-phrase-7", "password2": "brand-new-pass-phrase-7"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-phrase-7")


def test_password_reset_with_mismatched_passwords_changes_nothing(client, user, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+/)", mailoutbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "brand-new-pass-phrase-7", "password2": "another-pass-phrase-8"},
    )
    assert response.status_code == 200
    assert "You must type the same password each time." in response.text
    user.refresh_from_db()
    assert user.check_password("pinboard-demo")


def test_login_is_rate_limited_after_repeated_failures(client, user):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "alice", "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": "alice", "password": "wrong"})
    assert "Too many failed login attempts" in response.text
    # Even the right password is refused while the limit holds: the counter is really shared.
    response = client.post(
        reverse("account_login"), {"login": "alice", "password": "pinboard-demo"}
    )
    assert "_auth_user_id" not in client.session
