import pytest
from django.db import IntegrityError

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_name_is_the_display_name_or_else_the_username():
    assert UserFactory(username="ada", display_name="Ada L.").name == "Ada L."
    assert UserFactory(username="bram", display_name="").name == "bram"


def test_usernames_are_unique_regardless_of_case():
    UserFactory(username="casey")
    with pytest.raises(IntegrityError):
        User.objects.create(username="Casey", email="other@example.com")


def test_profile_url_uses_the_username():
    assert UserFactory(username="dana").get_absolute_url() == "/users/dana/"


def test_active_excludes_deactivated_people():
    UserFactory(username="active")
    UserFactory(username="gone", is_active=False)
    assert list(User.objects.active().values_list("username", flat=True)) == ["active"]
