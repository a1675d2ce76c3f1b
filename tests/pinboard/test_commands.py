"""The operators' commands for media files: prune_media, rebuild_thumbnails."""

import io
import os
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.services import user_update_profile
from pinboard.images import RENDITIONS
from pinboard.models import PinImage
from pinboard.services import pin_delete, pin_save
from tests.factories import (
    BoardFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
    make_normalized_image,
)

TWO_HOURS = 2 * 60 * 60


def files_of(image: PinImage) -> list[str]:
    return [image.file.name] + [getattr(image, rendition).name for rendition in RENDITIONS]


def age_media(seconds: int = TWO_HOURS) -> None:
    """Make every stored file and image row look older than the grace period."""
    past = time.time() - seconds
    for folder, _, names in os.walk(default_storage.location):
        for name in names:
            os.utime(os.path.join(folder, name), (past, past))
    PinImage.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def stray(name: str, size: int = 100) -> str:
    return default_storage.save(name, ContentFile(b"x" * size))


# --- prune_media -------------------------------------------------------------------------------


@pytest.fixture
def media(db):
    """A pin saved by someone else (one file, two pins), an avatar, an image no pin uses, and
    stray files nothing references, all older than the grace period."""
    pin = PinFactory()
    saver = UserFactory()
    saved = pin_save(user=saver, pin=pin, board=BoardFactory(owner=saver))
    user_update_profile(
        user=saver, display_name="Saver", bio="", avatar=make_normalized_image(size=(50, 50))
    )
    unused = PinImageFactory(size=(120, 90))
    strays = [
        stray("pins/stray.webp", 300),
        stray("avatars/old-avatar.webp", 200),
        stray("CACHE/images/pins/long-gone/0123abcd.webp", 50),
    ]
    age_media()
    return {
        "pin": pin,
        "saved": saved,
        "avatar": saver.avatar.name,
        "unused": unused,
        "unused_files": files_of(unused),
        "strays": strays,
    }


@pytest.mark.django_db
def test_prune_media_deletes_orphans_and_never_a_referenced_file(media, run_command):
    shared = files_of(media["pin"].image)
    # The original pin goes: its save still shows the shared image.
    pin_delete(pin=media["pin"])
    assert all(default_storage.exists(name) for name in shared)
    kept_outside = stray("notes/operator-readme.txt")
    age_media()

    output = run_command("prune_media")

    for name in [*shared, media["avatar"]]:
        assert default_storage.exists(name), f"{name} is referenced and must stay"
    for name in [*media["unused_files"], *media["strays"]]:
        assert not default_storage.exists(name), f"{name} is unreferenced and must go"
    assert not PinImage.objects.filter(pk=media["unused"].pk).exists()
    assert PinImage.objects.filter(pk=media["saved"].image_id).exists()
    assert default_storage.exists(kept_outside)  # not a folder the app writes into
    assert "Deleted 1 unused images and 7 files" in output  # 4 of the image, 3 strays

    assert "Deleted 0 unused images and 0 files" in run_command("prune_media")  # nothing left to do
    # The saved pin's page still shows its image and renditions.
    assert all(default_storage.exists(name) for name in shared)


@pytest.mark.django_db
def test_prune_media_dry_run_reports_what_it_would_free_and_deletes_nothing(media, run_command):
    doomed = [*media["unused_files"], *media["strays"]]
    expected_bytes = sum(default_storage.size(name) for name in doomed)

    output = run_command("prune_media", "--dry-run")

    assert all(default_storage.exists(name) for name in doomed)
    assert PinImage.objects.filter(pk=media["unused"].pk).exists()
    assert "Dry run, nothing deleted" in output
    assert "Would delete 1 unused images and 7 files, freeing" in output
    assert f"({expected_bytes:,} bytes)" in output

    assert "freeing" in run_command("prune_media")
    assert not any(default_storage.exists(name) for name in doomed)


@pytest.mark.django_db
def test_prune_media_leaves_files_younger_than_the_grace_period(media, run_command):
    # An upload in progress: its files are written, its row and pin not yet committed.
    in_flight = stray("pins/uploading.webp")
    young_unused = PinImageFactory(size=(80, 60))

    output = run_command("prune_media")

    assert default_storage.exists(in_flight)
    assert all(default_storage.exists(name) for name in files_of(young_unused))
    assert PinImage.objects.filter(pk=young_unused.pk).exists()
    assert "Kept 1 unreferenced files younger than 60 minutes" in output  # the row holds the rest

    run_command("prune_media", "--grace-minutes", "0")
    assert not default_storage.exists(in_flight)
    assert not PinImage.objects.filter(pk=young_unused.pk).exists()
    assert not any(default_storage.exists(name) for name in files_of(young_unused))


def test_prune_media_refuses_a_negative_grace_period(command_exit_code):
    with pytest.raises(CommandError, match="--grace-minutes cannot be negative, got -5"):
        call_command("prune_media", "--grace-minutes", "-5")
    assert command_exit_code("prune_media", "--grace-minutes", "-5") == 1
    assert (
        command_exit_code("prune_media", "--grace-minutes", "soon") == 2
    )  # argparse: not a number


# --- rebuild_thumbnails ------------------------------------------------------------------------


@pytest.mark.django_db
def test_rebuild_thumbnails_only_missing_makes_just_the_missing_renditions(run_command):
    first, second = PinImageFactory(), PinImageFactory(size=(200, 100))
    lost = first.grid_2x.name
    default_storage.delete(lost)

    output = run_command("rebuild_thumbnails", "--only-missing")

    assert default_storage.exists(lost)
    assert "Made 1 renditions of 2 images, 5 already there, 0 images failed" in output
    assert "Images: 2 / 2 (100%)" in output
    for image in (first, second):
        assert all(default_storage.exists(name) for name in files_of(image))


@pytest.mark.django_db
def test_rebuild_thumbnails_regenerates_every_rendition_in_place(run_command):
    image = PinImageFactory()
    folder = os.path.dirname(image.grid.name)
    before = sorted(default_storage.listdir(folder)[1])
    with default_storage.open(image.detail.name, "wb") as broken:
        broken.write(b"not an image")

    output = run_command("rebuild_thumbnails")

    assert "Made 3 renditions of 1 images" in output
    # Same names (pages keep their URLs), no stray copies beside them, real images again.
    assert sorted(default_storage.listdir(folder)[1]) == before
    with default_storage.open(image.detail.name, "rb") as rebuilt:
        assert rebuilt.read(4) == b"RIFF"  # WebP


@pytest.mark.django_db
def test_rebuild_thumbnails_names_the_images_that_failed_and_exits_non_zero():
    good, broken = PinImageFactory(), PinImageFactory(size=(100, 100))
    for name in files_of(good)[1:]:
        default_storage.delete(name)
    default_storage.delete(broken.file.name)  # the original is gone: nothing to rebuild from

    with pytest.raises(CommandError, match=rf"1 images failed:\n  #{broken.pk} ") as failed:
        call_command("rebuild_thumbnails", stdout=io.StringIO())

    assert failed.value.returncode == 1
    assert all(default_storage.exists(name) for name in files_of(good))  # the others went on


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("prune_media", ["never deleted", "--dry-run", "--grace-minutes", "while the site serves"]),
        ("rebuild_thumbnails", ["--only-missing", "every 10%", "exits non-zero"]),
    ],
)
def test_each_command_explains_itself_in_help(command, phrases):
    parser = load_command_class("pinboard", command).create_parser("manage.py", command)
    text = " ".join(parser.format_help().split())
    for phrase in phrases:
        assert phrase in text
