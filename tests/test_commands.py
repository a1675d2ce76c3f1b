"""The operators' commands of messaging: prune_events, export_user (prune_media and
rebuild_thumbnails: tests/pinboard/test_commands.py)."""

import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.utils import timezone

from messaging.models import Event
from tests.factories import ConversationFactory, MessageFactory, PinFactory, UserFactory


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("prune_events", ["--older-than-days", "catch up"]),
        ("export_user", ["username", "README.txt", "--force"]),
        ("prune_exports", ["7 days", "EXPORT_ROOT", "Run it daily"]),
    ],
)
def test_each_command_explains_itself_in_help(command, phrases):
    parser = load_command_class("messaging", command).create_parser("manage.py", command)
    text = " ".join(parser.format_help().split())
    for phrase in phrases:
        assert phrase in text


# --- prune_events ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_prune_events_deletes_only_events_older_than_asked(run_command):
    message = MessageFactory()
    person = message.sender
    make = lambda days: Event.objects.create(  # noqa: E731
        user=person, kind=Event.Kind.MESSAGE_NEW, conversation=message.conversation, message=message
    )
    old, week_old, recent = make(30), make(8), make(1)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    Event.objects.filter(pk=week_old.pk).update(created_at=timezone.now() - timedelta(days=8))
    Event.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=1))

    assert "Deleted 1 events older than 10 days" in run_command(
        "prune_events", "--older-than-days", "10"
    )
    assert set(Event.objects.values_list("pk", flat=True)) == {week_old.pk, recent.pk}

    assert "Deleted 1 events older than 7 days" in run_command("prune_events")  # the default
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]


def test_prune_events_refuses_a_period_under_a_day(command_exit_code):
    with pytest.raises(CommandError, match="--older-than-days must be at least 1, got 0"):
        call_command("prune_events", "--older-than-days", "0")
    assert command_exit_code("prune_events", "--older-than-days", "-3") == 1


# --- export_user -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_user_writes_the_zip(tmp_path, run_command):
    pin = PinFactory(board__owner=UserFactory(username="carla"), title="Terracotta pots")
    ConversationFactory()  # someone else's: not in the export
    target = tmp_path / "carla.zip"

    output = run_command("export_user", "Carla", str(target))  # usernames are case-insensitive

    assert f"Wrote carla's data to {target}" in output
    with zipfile.ZipFile(target) as archive:
        assert {"profile.json", "pins.json", "conversations.json", "README.txt"} <= set(
            archive.namelist()
        )
        assert "Terracotta pots" in archive.read("pins.json").decode()
        assert f"images/pin-image-{pin.image_id}.webp" in archive.namelist()
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.django_db
def test_export_user_refuses_an_unknown_user(tmp_path):
    with pytest.raises(CommandError, match="There is no user 'nobody'") as refused:
        call_command("export_user", "nobody", str(tmp_path / "x.zip"))
    assert refused.value.returncode == 1
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.django_db
def test_export_user_refuses_a_path_it_cannot_write(tmp_path, run_command):
    UserFactory(username="dora")
    with pytest.raises(CommandError, match=r"Could not write .*missing/dora\.zip: No such file"):
        call_command("export_user", "dora", str(tmp_path / "missing" / "dora.zip"))
    with pytest.raises(CommandError, match="is a folder"):
        call_command("export_user", "dora", str(tmp_path))

    existing = tmp_path / "dora.zip"
    existing.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="already exists: choose another name or pass --force"):
        call_command("export_user", "dora", str(existing))
    assert existing.read_bytes() == b"keep me"
    run_command("export_user", "dora", str(existing), "--force")
    assert zipfile.is_zipfile(existing)
