"""`manage.py prune_exports`: delete "Download my data" zips past their week."""

from django.core.management.base import BaseCommand

from messaging.export import files as export_files


class Command(BaseCommand):
    help = (
        f'Delete "Download my data" zips (EXPORT_ROOT) older than {export_files.KEEP.days} days, '
        "and the notifications that pointed at them. Each new export also prunes, so this only "
        "matters on a site where nobody exports for a while. Safe while the site serves. Run "
        "it daily."
    )

    def handle(self, *args, **options) -> None:
        deleted = export_files.prune()
        self.stdout.write(f"Deleted {deleted:,} exports older than {export_files.KEEP.days} days.")
