"""`manage.py prune_media`: delete media files no row references (pinboard/media_cleanup.py)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from pinboard.media_cleanup import DEFAULT_GRACE, prune_media


class Command(BaseCommand):
    help = (
        "Delete media files that no row references: pin images no pin uses any more (their "
        "PinImage rows first, then the files), their renditions under the imagekit cache "
        "folder, and avatar files no person has. A file a row references is never deleted: "
        "the image shared by a pin and all its saves, avatars, and the renditions of those "
        "images stay. Safe to run while the site serves: files and rows younger than "
        "--grace-minutes are left alone, because an upload writes its file before its row "
        "commits. Reports the files and bytes freed; --dry-run deletes nothing and reports "
        "what would be freed. Exits non-zero if any file could not be deleted."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Delete nothing; report what would be deleted and how many bytes it would free.",
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=int(DEFAULT_GRACE.total_seconds() // 60),
            metavar="M",
            help="Leave files and image rows younger than this alone (default: %(default)s). "
            "Keep it above the longest upload, or a file may go before its row commits.",
        )

    def handle(self, *args, dry_run: bool, grace_minutes: int, **options) -> None:
        if grace_minutes < 0:
            raise CommandError(f"--grace-minutes cannot be negative, got {grace_minutes}.")
        verbosity = options["verbosity"]
        report = prune_media(
            dry_run=dry_run,
            grace=timedelta(minutes=grace_minutes),
            progress=self._progress if verbosity >= 2 else None,
        )
        size = filesizeformat(report.bytes_freed)
        if dry_run:
            self.stdout.write(
                f"Dry run, nothing deleted. Would delete {report.images_deleted:,} unused "
                f"images and {report.files_deleted:,} files, freeing {size} "
                f"({report.bytes_freed:,} bytes), of {report.files_checked:,} files checked."
            )
        else:
            self.stdout.write(
                f"Deleted {report.images_deleted:,} unused images and "
                f"{report.files_deleted:,} files, freeing {size} ({report.bytes_freed:,} "
                f"bytes), of {report.files_checked:,} files checked."
            )
        if report.files_kept_young:
            self.stdout.write(
                f"Kept {report.files_kept_young:,} unreferenced files younger than "
                f"{grace_minutes} minutes (they may belong to an upload in progress)."
            )
        if report.failed:
            shown = ", ".join(report.failed[:20])
            more = f" and {len(report.failed) - 20:,} more" if len(report.failed) > 20 else ""
            raise CommandError(
                f"Could not delete {len(report.failed):,} files: {shown}{more}. "
                "Check the media folder's permissions and run again."
            )

    def _progress(self, stage: str, done: int) -> None:
        self.stdout.write(f"{stage}: {done:,} checked")
