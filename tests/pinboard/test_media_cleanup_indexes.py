"""prune_media's batch lookups of stored file names are served by pinboard_pinimage's indexes
(issue #7 follow-up): the expressions the queries filter on are the ones indexed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pinboard import media_cleanup
from tests.factories import PinFactory, PinImageFactory

pytestmark = pytest.mark.django_db


def plans_of_lookups(names: list[str]) -> tuple[set[str], list[str]]:
    """The plans of the PinImage lookups `_referenced` runs for these names, with sequential
    scans ruled out: a tiny test table would be scanned anyway, and what matters here is that
    an index *can* answer each lookup (on a big table the planner then takes it: see
    media_cleanup._one_of)."""
    with CaptureQueriesContext(connection) as captured:
        referenced = media_cleanup._referenced(names, cutoff=timezone.now(), unused_count=False)
    lookups = [q["sql"] for q in captured if 'FROM "pinboard_pinimage"' in q["sql"]]
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in lookups:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return referenced, plans


def test_the_lookups_by_name_and_by_stem_use_the_indexes():
    image = PinImageFactory()
    PinFactory(image=image)
    stem = image.file.name.rsplit(".", 1)[0]
    names = [image.file.name, f"CACHE/images/{stem}/0123abcd.webp", "pins/gone.webp"]

    referenced, plans = plans_of_lookups(names)

    assert referenced == {image.file.name, f"CACHE/images/{stem}/0123abcd.webp"}
    assert len(plans) == 2
    assert "pinboard_pinimage_file_idx" in plans[0]
    assert "pinboard_pinimage_stem_idx" in plans[1]
