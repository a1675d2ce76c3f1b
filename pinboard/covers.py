"""Board covers: each board shows its newest few pins, fetched for a whole list of boards in
two queries whatever their sizes (one, when the boards' own query carried `cover_ids()`)."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef

from pinboard.models import Board, Pin

COVER_PINS = 3


def cover_ids() -> ArraySubquery:
    """The ids of a board's cover pins, newest first, as an annotation on a Board query.

    An index-ordered subquery per board (reading only COVER_PINS index entries each): a window
    over all of a board's pins read every pin of a busy profile (measured 20 ms vs 3.9 ms).
    """
    # A pin hidden by moderators is never a cover, not even on its owner's board list.
    newest = Pin.objects.filter(board=OuterRef("pk"), hidden_at__isnull=True)
    return ArraySubquery(newest.order_by("-id").values("pk")[:COVER_PINS])


def attach_covers(boards: list[Board]) -> list[Board]:
    """Set `board.cover_pins` (newest first, at most COVER_PINS) on every board: their ids in one
    query, then the pins themselves (attach_cover_pins)."""
    if not boards:
        return boards
    ids = dict(
        Board.objects.filter(pk__in=[board.pk for board in boards])
        .annotate(cover_ids=cover_ids())
        .values_list("pk", "cover_ids")
    )
    return attach_cover_pins(boards, ids)


def attach_cover_pins(boards: list[Board], ids: dict[int, list[int]]) -> list[Board]:
    """Set `board.cover_pins` from cover ids already read (`ids`: board id -> `cover_ids()`),
    in one query for all the boards' pins with their images."""
    wanted = [pk for board in boards for pk in ids.get(board.pk) or []]
    by_id = {}
    if wanted:
        by_id = {pin.pk: pin for pin in Pin.objects.filter(pk__in=wanted).select_related("image")}
    for board in boards:
        board.cover_pins = [by_id[pk] for pk in ids.get(board.pk) or [] if pk in by_id]
    return boards
