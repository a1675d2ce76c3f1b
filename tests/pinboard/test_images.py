"""The pin image pipeline on top of accounts/images.py (validation and re-encoding are tested in
tests/accounts/test_images.py): storage under unguessable names, renditions made on save, and
files that go away exactly when no pin uses them any more — and never before the commit."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DataError, transaction
from PIL import Image

from pinboard import services
from pinboard.images import pin_image_store, pin_images_delete_unused
from pinboard.models import Pin, PinImage
from tests.factories import BoardFactory, PinFactory, UserFactory, make_normalized_image

pytestmark = pytest.mark.django_db

RENDITION_WIDTHS = {"grid": 236, "grid_2x": 472, "detail": 736}


def media_files() -> set[str]:
    """Every file under MEDIA_ROOT (a fresh temporary folder for each test), relative to it."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return set()
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def image_files(image: PinImage) -> list[Path]:
    """The original and its three renditions, as paths on disk."""
    root = Path(settings.MEDIA_ROOT)
    names = [image.file.name] + [getattr(image, name).name for name in RENDITION_WIDTHS]
    return [root / name for name in names]


def open_stored(name: str) -> Image.Image:
    image = Image.open(Path(settings.MEDIA_ROOT) / name)
    image.load()
    return image


# Storing


def test_the_original_is_stored_as_webp_under_pins_with_an_unguessable_name():
    first = pin_image_store(make_normalized_image(size=(300, 400)))
    second = pin_image_store(make_normalized_image(size=(300, 400)))

    for image in (first, second):
        assert re.fullmatch(r"pins/[A-Za-z0-9_-]{24}\.webp", image.file.name), image.file.name
        assert open_stored(image.file.name).format == "WEBP"
    assert first.file.name != second.file.name


def test_size_and_placeholder_colour_are_stored_with_the_image():
    image = pin_image_store(make_normalized_image(size=(300, 400), color=(10, 120, 200)))

    image.refresh_from_db()
    assert (image.width, image.height) == (300, 400)
    red, green, blue = (int(image.dominant_color[i : i + 2], 16) for i in (1, 3, 5))
    assert abs(red - 10) <= 12
    assert abs(green - 120) <= 12
    assert abs(blue - 200) <= 12


def test_three_webp_renditions_exist_on_disk_right_after_saving():
    image = pin_image_store(make_normalized_image(size=(1000, 1500)))

    for name, width in RENDITION_WIDTHS.items():
        rendition = getattr(image, name)
        stored = open_stored(rendition.name)
        assert stored.format == "WEBP", name
        assert stored.size == (width, round(1500 * width / 1000)), name
    assert len(media_files()) == 4


def test_a_small_image_is_not_upscaled_in_its_renditions():
    image = pin_image_store(make_normalized_image(size=(200, 120)))

    for name in RENDITION_WIDTHS:
        assert open_stored(getattr(image, name).name).size == (200, 120), name


# Deleting: shared by saves, only after commit


def test_deleting_a_pin_removes_its_image_rows_and_files_only_after_commit(
    django_capture_on_commit_callbacks,
):
    pin = PinFactory()
    image = pin.image
    files = image_files(image)
    assert all(path.exists() for path in files)

    with django_capture_on_commit_callbacks(execute=True):
        services.pin_delete(pin=pin)
        # Still inside the (test's) transaction: a rollback must find everything in place.
        assert PinImage.objects.filter(pk=image.pk).exists()
        assert all(path.exists() for path in files)

    assert not PinImage.objects.filter(pk=image.pk).exists()
    assert not any(path.exists() for path in files)
    assert media_files() == set()


def test_a_saved_pin_keeps_the_shared_image_until_it_is_deleted_too(
    django_capture_on_commit_callbacks,
):
    original = PinFactory()
    saver = UserFactory()
    saved = services.pin_save(user=saver, pin=original, board=BoardFactory(owner=saver))
    image = original.image
    files = image_files(image)
    assert saved.image_id == image.pk

    with django_capture_on_commit_callbacks(execute=True):
        services.pin_delete(pin=original)

    assert PinImage.objects.filter(pk=image.pk).exists()
    assert all(path.exists() for path in files)

    with django_capture_on_commit_callbacks(execute=True):
        services.pin_delete(pin=saved)

    assert not PinImage.objects.filter(pk=image.pk).exists()
    assert not any(path.exists() for path in files)


def test_an_image_still_used_by_a_pin_is_not_deleted(django_capture_on_commit_callbacks):
    pin = PinFactory()

    with django_capture_on_commit_callbacks(execute=True):
        pin_images_delete_unused({pin.image_id})

    assert PinImage.objects.filter(pk=pin.image_id).exists()
    assert all(path.exists() for path in image_files(pin.image))


def delete_then_roll_back(pin: Pin) -> None:
    with transaction.atomic():
        services.pin_delete(pin=pin)
        raise RuntimeError("rolled back")


def test_nothing_is_deleted_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    pin = PinFactory()
    pin_id, files = pin.pk, image_files(pin.image)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        delete_then_roll_back(pin)

    assert callbacks == []
    assert Pin.objects.filter(pk=pin_id).exists()
    assert all(path.exists() for path in files)


# A failed pin_create leaves nothing behind


def test_pinning_to_someone_elses_board_stores_no_image():
    board = BoardFactory()

    with pytest.raises(PermissionDenied):
        services.pin_create(
            owner=UserFactory(), board=board, image=make_normalized_image(), title="Not mine"
        )

    assert not PinImage.objects.exists()
    assert not Pin.objects.exists()
    assert media_files() == set()


def test_a_failure_after_the_image_was_stored_removes_its_row_and_files():
    board = BoardFactory()

    # The database refuses a title over 100 characters: the image and its renditions are already
    # written by then, so this exercises the clean-up path.
    with pytest.raises(DataError):
        services.pin_create(
            owner=board.owner, board=board, image=make_normalized_image(), title="x" * 101
        )

    assert not PinImage.objects.exists()
    assert not Pin.objects.exists()
    assert media_files() == set()
