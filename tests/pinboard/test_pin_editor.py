"""Creating, editing and deleting pins through the pages (and their htmx variants).

Uploads are real image files made with Pillow; the database is real PostgreSQL and MEDIA_ROOT a
fresh folder per test, so "nothing was stored" is checked on disk as well as in the tables.
"""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.images import DAMAGED_MESSAGE, EMPTY_MESSAGE, UNSUPPORTED_MESSAGE
from pinboard import services
from pinboard.models import Board, Pin, PinImage
from tests.conftest import make_image_file
from tests.factories import BoardFactory, BoardMemberFactory, PinFactory

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("pin_create")


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return set()
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def rows() -> tuple[int, int, int]:
    return Pin.objects.count(), PinImage.objects.count(), Board.objects.count()


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def png(size=(640, 480), name="photo.png"):
    return make_image_file(size=size, name=name)


def noise_jpeg(size=(400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 80).convert("RGB").save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def create_pin(client, *, headers=None, **data):
    fields = {"title": "", "description": "", "source_url": "", "board": "", "new_board_name": ""}
    return client.post(CREATE_URL, {**fields, **data}, **(headers or {}))


@pytest.fixture
def board(user):
    return BoardFactory(owner=user, name="Recipes")


@pytest.fixture
def alice(client_for, user):
    return client_for(user)


# The create page


def test_create_page_needs_login(client):
    response = client.get(CREATE_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("board_count", [1, 6])
def test_create_page_costs_the_same_queries_whatever_the_number_of_boards(
    alice, user, board_count, django_assert_num_queries
):
    BoardFactory.create_batch(board_count, owner=user)
    # Session, user, the board options, the nav's unread total.
    with django_assert_num_queries(4):
        response = alice.get(CREATE_URL)
    assert response.status_code == 200
    assert response.text.count('<option value="') == board_count + 1  # + "Choose a board"


def test_create_page_offers_an_upload_form_that_works_without_javascript(alice, board):
    page = alice.get(CREATE_URL).text

    assert 'method="post"' in page
    assert 'enctype="multipart/form-data"' in page
    assert f'action="{CREATE_URL}"' in page
    assert 'type="file" name="image"' in page
    assert '<label for="id_image">Image</label>' in page
    assert '<label for="pin-upload-progress">' in page
    assert "js/pin-upload.js" in page


def test_someone_without_boards_is_asked_to_name_their_first_board(alice):
    page = alice.get(CREATE_URL).text

    assert 'name="board"' not in page
    assert "Create your first board" in page
    assert 'name="new_board_name"' in page


def test_a_board_in_the_query_string_is_preselected(alice, user, board):
    BoardFactory(owner=user, name="Another")
    page = alice.get(CREATE_URL, {"board": board.pk}).text
    assert f'<option value="{board.pk}" selected>Recipes</option>' in page


# Creating


def test_creating_a_pin_stores_it_with_its_image_and_goes_to_the_board(alice, user, board):
    response = create_pin(
        alice,
        image=png(size=(900, 600)),
        title="  Lemon tart  ",
        description="Crisp pastry.",
        source_url="https://example.com/tart",
        board=board.pk,
    )

    assert response.status_code == 302
    assert response.url == board.get_absolute_url()
    assert messages_of(response) == ["Pin saved to Recipes."]
    pin = Pin.objects.select_related("image").get()
    assert (pin.owner, pin.board, pin.title) == (user, board, "Lemon tart")
    assert (pin.description, pin.source_url) == ("Crisp pastry.", "https://example.com/tart")
    assert (pin.image.width, pin.image.height) == (900, 600)
    assert len(media_files()) == 4  # the original and three renditions
    assert (Path(settings.MEDIA_ROOT) / pin.image.file.name).exists()


def test_a_collaborator_can_pin_to_a_shared_board(alice, user):
    shared = BoardFactory(name="Trip")
    BoardMemberFactory(board=shared, user=user)

    response = create_pin(alice, image=png(), title="Beach", board=shared.pk)

    assert response.status_code == 302
    assert Pin.objects.get().board == shared


def test_creating_a_pin_on_a_new_board_creates_both(alice, user):
    response = create_pin(
        alice, image=png(), title="Cabin", new_board_name=" Hideaways ", new_board_secret="on"
    )

    assert response.status_code == 302
    board = Board.objects.get()
    assert (board.owner, board.name, board.is_secret) == (user, "Hideaways", True)
    assert response.url == board.get_absolute_url()
    assert Pin.objects.get().board == board
    assert messages_of(response) == ["Pin saved to Hideaways."]


def test_a_taken_board_name_is_a_field_error_and_nothing_is_created(alice, board):
    before = rows()

    response = create_pin(alice, image=png(), title="Kept title", new_board_name="RECIPES")

    assert response.status_code == 200
    assert response.context["form"].errors["new_board_name"] == [
        "You already have a board called “RECIPES”. Choose another name."
    ]
    assert 'value="Kept title"' in response.text
    assert rows() == before
    assert media_files() == set()


def test_a_new_board_is_not_kept_when_storing_the_pin_fails(alice, settings, tmp_path):
    # Storage that cannot be written to (MEDIA_ROOT is a file, not a folder): the board is
    # created first, then storing the image fails — both must be undone together.
    settings.MEDIA_ROOT = tmp_path / "not-a-folder"
    settings.MEDIA_ROOT.write_text("")

    with pytest.raises(NotADirectoryError):
        create_pin(alice, image=png(), title="Cabin", new_board_name="Hideaways")

    assert rows() == (0, 0, 0)


def test_choosing_a_board_and_naming_a_new_one_is_refused(alice, board):
    before = rows()

    response = create_pin(alice, image=png(), title="Tart", board=board.pk, new_board_name="Pies")

    assert response.context["form"].errors["new_board_name"] == [
        "You chose a board and named a new one: clear one of them."
    ]
    assert rows() == before


def test_neither_a_board_nor_a_new_name_is_refused(alice, board):
    response = create_pin(alice, image=png(), title="Tart")

    assert response.context["form"].errors["board"] == ["Choose a board, or name a new one."]
    assert not Pin.objects.exists()


def test_someone_without_boards_must_name_one(alice):
    response = create_pin(alice, image=png(), title="Tart")

    assert response.context["form"].errors["new_board_name"] == ["Name a board for your pin."]
    assert rows() == (0, 0, 0)


def test_pinning_to_someone_elses_board_is_a_field_error(alice, other_user):
    theirs = BoardFactory(owner=other_user)
    before = rows()

    response = create_pin(alice, image=png(), title="Sneaky", board=theirs.pk)

    assert response.status_code == 200
    assert response.context["form"].errors["board"] == ["Choose one of your boards."]
    assert rows() == before
    assert media_files() == set()


def test_a_missing_title_is_refused_and_the_image_must_be_chosen_again(alice, board):
    response = create_pin(alice, image=png(), description="Kept words", board=board.pk)

    assert response.status_code == 200
    assert response.context["form"].errors["title"] == ["Give your pin a title."]
    assert "Kept words</textarea>" in response.text
    assert "Choose the image again" in response.text
    assert not Pin.objects.exists()
    assert media_files() == set()


def test_a_missing_image_is_refused_without_asking_to_choose_it_again(alice, board):
    response = create_pin(alice, title="No picture", board=board.pk)

    assert response.context["form"].errors["image"] == ["Choose an image for your pin."]
    assert "Choose the image again" not in response.text


@pytest.mark.parametrize("source_url", ["javascript:alert(1)", "ftp://x", "ftp://example.com/a"])
def test_a_source_link_that_is_not_http_is_refused(alice, board, source_url):
    response = create_pin(alice, image=png(), title="Tart", source_url=source_url, board=board.pk)

    assert response.status_code == 200
    assert response.context["form"].errors["source_url"]
    assert not Pin.objects.exists()
    assert media_files() == set()


def test_an_over_long_title_is_refused(alice, board):
    response = create_pin(alice, image=png(), title="x" * 101, board=board.pk)

    assert response.context["form"].errors["title"] == [
        "Ensure this value has at most 100 characters (it has 101)."
    ]
    assert rows() == (0, 0, 1)


# Refused images: a clear message, the typed text kept, and nothing stored anywhere


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def assert_refused_and_nothing_stored(client, upload, message):
    before = rows()

    # A new board is asked for too, so "no board was created" can fail.
    response = create_pin(client, image=upload, title="Kept title", new_board_name="Kitchen")

    assert response.status_code == 200
    assert response.context["form"].errors["image"] == [message]
    assert message in response.text
    assert 'value="Kept title"' in response.text
    assert 'value="Kitchen"' in response.text
    assert "Choose the image again" not in response.text  # its own error says what to do
    assert rows() == before
    assert media_files() == set()


def test_an_empty_file_is_refused_and_nothing_is_stored(alice):
    assert_refused_and_nothing_stored(alice, SimpleUploadedFile("empty.png", b""), EMPTY_MESSAGE)


def test_an_svg_is_refused_and_nothing_is_stored(alice):
    upload = SimpleUploadedFile("drawing.svg", SVG, content_type="image/svg+xml")
    assert_refused_and_nothing_stored(alice, upload, UNSUPPORTED_MESSAGE)


def test_disguised_html_is_refused_and_nothing_is_stored(alice):
    upload = SimpleUploadedFile("photo.jpg", HTML, content_type="image/jpeg")
    assert_refused_and_nothing_stored(alice, upload, UNSUPPORTED_MESSAGE)


def test_a_truncated_image_is_refused_and_nothing_is_stored(alice):
    data = noise_jpeg()
    upload = SimpleUploadedFile("photo.jpg", data[: len(data) // 2], content_type="image/jpeg")
    assert_refused_and_nothing_stored(alice, upload, DAMAGED_MESSAGE)


def test_a_file_over_the_byte_limit_is_refused_and_nothing_is_stored(alice, settings):
    settings.MAX_UPLOAD_BYTES = 10 * 1024
    data = noise_jpeg(size=(40, 40))
    # A valid JPEG (decoders stop at its end marker), padded to exactly 20 KB.
    upload = SimpleUploadedFile("photo.jpg", data.ljust(20 * 1024, b"\0"), "image/jpeg")
    message = "The image is 20 KB; the limit is 10 KB."
    assert_refused_and_nothing_stored(alice, upload, message)


def test_an_image_with_too_many_pixels_is_refused_and_nothing_is_stored(alice, settings):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    message = (
        "The image is 1250 \N{MULTIPLICATION SIGN} 1000 pixels (1.2 megapixels); "
        "the limit is 1 megapixels."
    )
    assert_refused_and_nothing_stored(alice, png(size=(1250, 1000)), message)


# htmx: the form posts in place


def test_htmx_create_answers_with_a_client_redirect_to_the_board(alice, board, htmx):
    response = create_pin(alice, headers=htmx, image=png(), title="Lemon tart", board=board.pk)

    assert response.status_code == 200
    assert response["HX-Redirect"] == board.get_absolute_url()
    assert messages_of(response) == ["Pin saved to Recipes."]
    assert Pin.objects.get().title == "Lemon tart"


def test_htmx_create_with_errors_answers_with_just_the_form(alice, board, htmx):
    response = create_pin(alice, headers=htmx, image=png(), description="Kept", board=board.pk)

    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert response.text.lstrip().startswith('<form id="pin-form"')
    assert "<html" not in response.text
    assert "Give your pin a title." in response.text
    assert "Kept</textarea>" in response.text
    # With htmx the chosen file survives the swap (hx-preserve), so nobody is asked to re-choose.
    assert 'id="pin-image-picker"' in response.text
    assert "hx-preserve" in response.text
    assert "Choose the image again" not in response.text
    assert not Pin.objects.exists()


def test_htmx_create_with_a_refused_image_keeps_the_text(alice, board, htmx):
    upload = SimpleUploadedFile("photo.jpg", HTML, content_type="image/jpeg")

    response = create_pin(alice, headers=htmx, image=upload, title="Kept", board=board.pk)

    assert UNSUPPORTED_MESSAGE in response.text
    assert 'value="Kept"' in response.text
    assert rows() == (0, 0, 1)


# Editing


@pytest.fixture
def pin(user, board):
    return PinFactory(owner=user, board=board, title="Lemon tart", description="Old")


def edit_url(pin) -> str:
    return reverse("pin_edit", args=[pin.pk])


def test_the_owner_edits_a_pin_and_moves_it_to_another_board(alice, user, pin):
    desserts = BoardFactory(owner=user, name="Desserts")

    response = alice.post(
        edit_url(pin),
        {
            "title": " Lime tart ",
            "description": "New",
            "source_url": "https://example.com/lime",
            "board": desserts.pk,
        },
    )

    assert response.status_code == 302
    assert response.url == pin.get_absolute_url()
    assert messages_of(response) == ["Pin updated."]
    pin.refresh_from_db()
    assert (pin.title, pin.description, pin.board) == ("Lime tart", "New", desserts)
    assert pin.source_url == "https://example.com/lime"


def test_the_edit_page_shows_the_pin_without_an_image_field(alice, pin, django_assert_num_queries):
    # Session, user, the pin with its image, the board options.
    with django_assert_num_queries(5):  # ... and the nav's unread total
        response = alice.get(edit_url(pin))

    assert response.status_code == 200
    assert 'value="Lemon tart"' in response.text
    assert 'type="file"' not in response.text
    assert 'name="new_board_name"' not in response.text
    assert pin.image.grid_2x.url in response.text


def test_an_edit_with_errors_changes_nothing(alice, pin):
    response = alice.post(
        edit_url(pin),
        {"title": "", "description": "Typed", "source_url": "javascript:alert(1)", "board": ""},
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"title", "source_url", "board"}
    assert "Typed</textarea>" in response.text
    pin.refresh_from_db()
    assert (pin.title, pin.description) == ("Lemon tart", "Old")


def test_a_pin_cannot_be_moved_to_someone_elses_board(alice, pin, other_user):
    theirs = BoardFactory(owner=other_user)

    response = alice.post(edit_url(pin), {"title": "Tart", "board": theirs.pk})

    assert response.context["form"].errors["board"] == ["Choose one of your boards."]
    pin.refresh_from_db()
    assert pin.board_id != theirs.pk


def test_a_stranger_cannot_open_or_post_the_edit_page(client_for, other_user, pin):
    stranger = client_for(other_user)

    assert stranger.get(edit_url(pin)).status_code == 404
    response = stranger.post(edit_url(pin), {"title": "Mine now", "board": pin.board_id})
    assert response.status_code == 404
    pin.refresh_from_db()
    assert pin.title == "Lemon tart"


def test_a_board_collaborator_cannot_edit_someone_elses_pin(client_for, other_user, pin):
    BoardMemberFactory(board=pin.board, user=other_user)
    assert client_for(other_user).get(edit_url(pin)).status_code == 404


def test_editing_needs_login(client, pin):
    response = client.get(edit_url(pin))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# Deleting


def delete_url(pin) -> str:
    return reverse("pin_delete", args=[pin.pk])


def test_the_delete_page_asks_first(alice, pin, django_assert_num_queries):
    # Session, user, the pin with its board and image.
    with django_assert_num_queries(4):  # with the nav's unread total
        response = alice.get(delete_url(pin))

    assert response.status_code == 200
    assert "Delete this pin?" in response.text
    assert "Saves other people made of it stay." in response.text
    assert f'action="{delete_url(pin)}"' in response.text
    assert Pin.objects.filter(pk=pin.pk).exists()


def test_deleting_a_pin_removes_it_and_its_files_and_goes_to_the_board(
    alice, pin, board, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(delete_url(pin))

    assert response.status_code == 302
    assert response.url == board.get_absolute_url()
    assert messages_of(response) == ["Pin deleted from Recipes."]
    assert not Pin.objects.exists()
    assert not PinImage.objects.exists()
    assert media_files() == set()


def test_deleting_a_pin_keeps_other_peoples_saves(
    alice, pin, other_user, django_capture_on_commit_callbacks
):
    saved = services.pin_save(user=other_user, pin=pin, board=BoardFactory(owner=other_user))

    with django_capture_on_commit_callbacks(execute=True):
        alice.post(delete_url(pin))

    saved.refresh_from_db()
    assert saved.saved_from is None
    assert len(media_files()) == 4


def test_htmx_delete_asks_in_a_dialog_and_answers_with_a_client_redirect(alice, pin, board, htmx):
    question = alice.get(delete_url(pin), **htmx)
    assert question.text.lstrip().startswith("<dialog")
    assert "<html" not in question.text
    assert "Saves other people made of it stay." in question.text

    response = alice.post(delete_url(pin), **htmx)

    assert response["HX-Redirect"] == board.get_absolute_url()
    assert not Pin.objects.exists()


def test_a_stranger_cannot_delete_a_pin(client_for, other_user, pin):
    stranger = client_for(other_user)

    assert stranger.get(delete_url(pin)).status_code == 404
    assert stranger.post(delete_url(pin)).status_code == 404
    assert Pin.objects.filter(pk=pin.pk).exists()


def test_deleting_needs_login(client, pin):
    response = client.post(delete_url(pin))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert Pin.objects.filter(pk=pin.pk).exists()
