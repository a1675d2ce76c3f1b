"""People edit their display name, bio and avatar; avatars are validated and re-encoded."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.conftest import make_image_file

pytestmark = pytest.mark.django_db


def post_profile(client, **data):
    return client.post(reverse("profile_edit"), {"display_name": "", "bio": "", **data})


def test_profile_edit_needs_login(client):
    response = client.get(reverse("profile_edit"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_saving_name_bio_and_avatar(client_for, user):
    client = client_for(user)
    upload = make_image_file(size=(900, 600), image_format="JPEG", name="me.jpg")
    response = post_profile(
        client, display_name="  Alice A.  ", bio="Tiny kitchens.", avatar_upload=upload
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.bio) == ("Alice A.", "Tiny kitchens.")
    assert user.avatar.name.startswith("avatars/")
    assert user.avatar.name.endswith(".webp")
    with Image.open(user.avatar.path) as stored:
        assert (stored.format, stored.size) == ("WEBP", (400, 400))


def test_a_replaced_avatar_file_is_deleted_after_commit(
    client_for, user, django_capture_on_commit_callbacks
):
    client = client_for(user)
    post_profile(client, avatar_upload=make_image_file())
    user.refresh_from_db()
    first_path = Path(user.avatar.path)
    with django_capture_on_commit_callbacks(execute=True):
        post_profile(client, avatar_upload=make_image_file(color=(0, 0, 255)))
    user.refresh_from_db()
    assert Path(user.avatar.path) != first_path
    assert Path(user.avatar.path).exists()
    assert not first_path.exists()


def test_a_file_that_is_not_an_image_is_refused_and_the_text_is_kept(client_for, user):
    client = client_for(user)
    disguised = SimpleUploadedFile("me.jpg", b"<html><script>alert(1)</script></html>")
    response = post_profile(client, display_name="Kept Name", avatar_upload=disguised)
    assert response.status_code == 200
    assert "Upload a JPEG, PNG, GIF or WebP image." in response.text
    assert 'value="Kept Name"' in response.text
    user.refresh_from_db()
    assert user.display_name == "Alice Archer"
    assert not user.avatar


def test_an_over_long_bio_is_refused(client_for, user):
    response = post_profile(client_for(user), bio="x" * 501)
    assert "Ensure this value has at most 500 characters" in response.text
    user.refresh_from_db()
    assert user.bio == ""
