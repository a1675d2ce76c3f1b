"""`manage.py export_user`: a person's data as a zip (messaging/export/archive.py)."""

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from accounts.models import User
from messaging.export.archive import write_user_export


class Command(BaseCommand):
    help = (
        'Write one person\'s data to a zip file, as the "Download my data" settings page '
        "does: profile.json, boards.json, pins.json with the original images under images/, "
        "likes.json, comments.json, following.json, conversations.json (the messages they "
        "can see; for a conversation they left, up to when they left) and a README.txt. "
        "Nothing of anyone else's that they may not see is included. For a data-portability "
        "request: send the file to the person. Refuses to overwrite an existing file unless "
        "--force is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="Whose data (case-insensitive).")
        parser.add_argument("file", help="Where to write the zip, e.g. alice.zip.")
        parser.add_argument(
            "--force", action="store_true", help="Overwrite the file if it already exists."
        )

    def handle(self, *args, username: str, file: str, force: bool, **options) -> None:
        try:
            user = User.objects.get(username__iexact=username)
        except User.DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None
        path = Path(file)
        if path.is_dir():
            raise CommandError(f"{file} is a folder: give the zip file's name, e.g. {file}/x.zip.")
        if path.exists() and not force:
            raise CommandError(f"{file} already exists: choose another name or pass --force.")
        started = time.perf_counter()
        # Written next to the target, then renamed: an interrupted export never leaves a
        # half-written zip under the name asked for.
        partial = path.with_name(f".{path.name}.partial")
        try:
            with open(partial, "wb") as out:
                write_user_export(user=user, file=out)
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Could not write {file}: {exc.strerror or exc}.") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {user.username}'s data to {file} "
                f"({filesizeformat(path.stat().st_size)}) in {elapsed:.1f} s."
            )
        )
