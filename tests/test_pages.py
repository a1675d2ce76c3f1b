"""The home page, the profile page, the base layout and the demo data."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_visitors_are_invited_to_sign_up_or_log_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert 'href="/accounts/signup/"' in response.text
    assert 'href="/accounts/login/"' in response.text


def test_signed_in_home_has_the_nav_and_the_account_menu(client_for, user):
    response = client_for(user).get(reverse("home"))
    assert "Your home feed" in response.text
    assert 'aria-label="Your account"' in response.text
    assert 'action="/accounts/logout/"' in response.text


def test_base_layout_sends_csrf_to_htmx_and_loads_htmx_under_a_nonce(client):
    response = client.get(reverse("home"))
    assert 'hx-headers=\'{"x-csrftoken": "' in response.text
    nonce = response.context["csp_nonce"]
    assert f'nonce="{nonce}"' in response.text
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert '"allowEval": false' in response.text


def test_messages_are_shown_as_dismissable_toasts(client_for, user):
    client = client_for(user)
    client.post(reverse("profile_edit"), {"display_name": "A", "bio": ""})
    response = client.get(reverse("profile_edit"))
    assert 'class="toast toast--success"' in response.text
    assert "Your profile is saved." in response.text


def test_profile_page_shows_name_and_bio(client, user):
    user.bio = "Tiny kitchens & <b>bold</b> ideas"
    user.save()
    response = client.get(reverse("profile", kwargs={"username": "ALICE"}))
    assert response.status_code == 200
    assert "Alice Archer" in response.text
    assert "Tiny kitchens &amp; &lt;b&gt;bold&lt;/b&gt; ideas" in response.text


def test_profile_of_a_deactivated_or_unknown_person_is_404(client, user):
    user.is_active = False
    user.save()
    assert client.get(reverse("profile", kwargs={"username": "alice"})).status_code == 404
    assert client.get(reverse("profile", kwargs={"username": "nobody"})).status_code == 404


def test_seed_demo_creates_verified_demo_users_once(client, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert list(User.objects.order_by("username").values_list("username", flat=True)) == [
        "demo1", "demo2", "demo3", "demo4", "demo5", "moderator",
    ]  # fmt: skip
    assert "Password: pinboard-demo" in capsys.readouterr().out
    response = client.post(
        reverse("account_login"), {"login": "demo1", "password": "pinboard-demo"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_staff_can_manage_users_in_the_admin(client_for, user, other_user):
    user.is_staff = user.is_superuser = True
    user.save()
    client = client_for(user)
    listing = client.get(reverse("admin:accounts_user_changelist"), {"q": "bob"})
    assert listing.status_code == 200
    assert "Bob Baker" in listing.text
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [other_user.pk]},
    )
    assert response.status_code == 302
    other_user.refresh_from_db()
    assert not other_user.is_active


def test_non_staff_cannot_reach_the_admin(client_for, user):
    response = client_for(user).get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url
