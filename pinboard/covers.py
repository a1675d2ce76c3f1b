"""Board covers: each board shows its newest few pins, fetched for a whole list of boards in
two queries whatever their sizes."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef

from pinboard.models import Board, Pin

COVER_PINS = 3


def attach_covers(boards: list[Board]) -> list[Board]:
    """Set `board.cover_pins` (newest first, at most COVER_PINS) on every board.

    The newest pin ids per board come from an index-ordered subquery per board (reading only
    COVER_PINS index entries each), then the pins themselves by id: a window over all of a
    board's pins read every pin of a busy profile (measured 20 ms vs 3.9 ms).
    """
    for board in boards:
        board.cover_pins = []
    if not boards:
        return boards
    # A pin hidden by moderators is never a cover, not even on its owner's board list.
    newest = Pin.objects.filter(board=OuterRef("pk"), hidden_at__isnull=True)
    newest = newest.order_by("-id").values("pk")[:COVER_PINS]
    cover_ids = dict(
        Board.objects.filter(pk__in=[board.pk for board in boards])
        .annotate(cover_ids=ArraySubquery(newest))
        .values_list("pk", "cover_ids")
    )
    pins = Pin.objects.filter(pk__in=[pk for ids in cover_ids.values() for pk in ids])
    by_id = {pin.pk: pin for pin in pins.select_related("image")}
    for board in boards:
        board.cover_pins = [by_id[pk] for pk in cover_ids.get(board.pk, []) if pk in by_id]
    return boards
