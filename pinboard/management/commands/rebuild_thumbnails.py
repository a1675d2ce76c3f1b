"""`manage.py rebuild_thumbnails`: regenerate the imagekit renditions of every pin image."""

import time

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from pinboard.images import RENDITIONS
from pinboard.models import PinImage

BATCH_SIZE = 500


class Command(BaseCommand):
    help = (
        f"Regenerate the renditions ({', '.join(RENDITIONS)}) of every pin image from its "
        "original, e.g. after a rendition's size or quality changed. Images are read in "
        f"batches of {BATCH_SIZE} by id; progress is printed every 10%. With --only-missing, "
        "only renditions whose file does not exist are made (fast to re-run after an "
        "interruption or a storage move). Ends with a summary; exits non-zero and names the "
        "images that failed (e.g. a missing original) if any did."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--only-missing",
            action="store_true",
            help="Only make renditions whose file is missing; leave existing ones as they are.",
        )

    def handle(self, *args, only_missing: bool, **options) -> None:
        verbosity = options["verbosity"]
        total = PinImage.objects.count()
        started = time.perf_counter()
        made = skipped = done = 0
        failed: list[str] = []
        shown = 0
        last_pk = 0
        while True:
            # Keyset batches: a fixed cost per batch whatever the table size, and images
            # uploaded meanwhile (with renditions already made) simply come last.
            batch = list(PinImage.objects.filter(pk__gt=last_pk).order_by("pk")[:BATCH_SIZE])
            if not batch:
                break
            last_pk = batch[-1].pk
            for image in batch:
                try:
                    for rendition in RENDITIONS:
                        if self._make(image, rendition, only_missing=only_missing):
                            made += 1
                        else:
                            skipped += 1
                except Exception as exc:  # any failure: reported per image, the rest go on
                    failed.append(f"#{image.pk} ({image.file.name}): {exc}")
                done += 1
            if verbosity >= 1 and total and (10 * done // total > shown or done >= total):
                shown = 10 * done // total
                self.stdout.write(
                    f"Images: {done:,} / {total:,} ({min(100, 100 * done // total)}%)"
                )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Made {made:,} renditions of {done:,} images"
            + (f", {skipped:,} already there" if only_missing else "")
            + f", {len(failed):,} images failed, in {elapsed:.1f} s."
        )
        if failed:
            listed = "\n".join(f"  {line}" for line in failed[:50])
            more = f"\n  … and {len(failed) - 50:,} more" if len(failed) > 50 else ""
            raise CommandError(f"{len(failed):,} images failed:\n{listed}{more}")

    @staticmethod
    def _make(image: PinImage, rendition: str, *, only_missing: bool) -> bool:
        """Make one rendition; False when --only-missing found it already there."""
        cached = getattr(image, rendition)
        exists = default_storage.exists(cached.name)
        if only_missing and exists:
            return False
        if exists:
            # imagekit saves under the same name only if it is free; otherwise the storage
            # picks another name and the new file is never used.
            default_storage.delete(cached.name)
        cached.generate(force=True)
        return True
