"""Search: pins, boards and people matching a few words, each read through its visibility rule."""

import math

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import render
from django.utils.http import urlencode

from pinboard.forms import SearchForm
from pinboard.models import Board, Pin
from pinboard.pagination import PAGE_SIZE, KeysetPage

PEOPLE_LIMIT = 12
BOARDS_LIMIT = 12
NO_PINS = KeysetPage(items=[], next_cursor=None)


# Pins are paginated by keyset on (rank, id), never by OFFSET. Ranking order is not id order, so
# the cursor is the last card's rank and id ("<rank>_<id>") and the next page asks for rows that
# rank lower, or rank the same with a smaller id (the same order as `.search()`: -rank, -id).
# Every page then costs what the first one costs: the GIN index finds the matches, PostgreSQL
# ranks them and keeps the top PAGE_SIZE + 1 (a bounded top-N sort); a deep page reads no rows
# only to throw them away, as an OFFSET would. The rank is an exact float8 (see
# pinboard.models._ranked_search), so it survives the round trip through the URL.
def parse_rank_cursor(raw: str | None) -> tuple[float, int] | None:
    """The (rank, id) of the last pin shown; anything malformed means 'from the start'."""
    rank_text, _, pk_text = (raw or "").partition("_")
    if not pk_text.isdigit():
        return None
    try:
        rank = float(rank_text)
    except ValueError:
        return None
    if not math.isfinite(rank) or rank < 0:
        return None
    return rank, int(pk_text)


def ranked_page(queryset, *, after: tuple[float, int] | None, size: int = PAGE_SIZE) -> KeysetPage:
    """One page of a `.search()` queryset (annotated with `rank`), after the cursor."""
    if after is not None:
        rank, pk = after
        queryset = queryset.filter(Q(rank__lt=rank) | Q(rank=rank, pk__lt=pk))
    rows = list(queryset.order_by("-rank", "-pk")[: size + 1])
    items = rows[:size]
    last = items[-1] if len(rows) > size else None
    # KeysetPage's cursor is a string here, not an id: the templates only use `has_next`.
    return KeysetPage(items=items, next_cursor=f"{last.rank!r}_{last.pk}" if last else None)


def search(request):
    form = SearchForm(request.GET)
    # An invalid query (over-long, or with NUL characters) is shown with its error and not run.
    q = form.cleaned_data["q"] if form.is_valid() else ""
    is_next_page = "cursor" in request.GET
    context = {
        "form": form,
        "q": q,
        "people": [],
        "boards": [],
        # What the shared pin grid partial wants (pinboard/components.html#pin_items).
        "page": NO_PINS,
        "next_url": "",
        "cursor": is_next_page,
        "empty_message": f"No pins match “{q}”.",
    }
    if q:
        user = request.user
        pins = Pin.objects.visible_to(user).search(q).for_cards(user)
        page = ranked_page(pins, after=parse_rank_cursor(request.GET.get("cursor")))
        context["page"] = page
        if page.has_next:
            query_string = urlencode({"q": q, "cursor": page.next_cursor})
            context["next_url"] = f"{request.path}?{query_string}"
        if not is_next_page:
            # People with a block either way between them and the searcher are not found.
            people = get_user_model().objects.search(q).not_blocked_with(user)
            context["people"] = list(people.order_by("username")[:PEOPLE_LIMIT])
            context["boards"] = list(
                Board.objects.visible_to(user)
                .search(q)
                .with_pin_count()
                .select_related("owner")[:BOARDS_LIMIT]
            )
    if request.htmx and is_next_page:
        return render(request, "pinboard/components.html#pin_items", context)
    return render(request, "pinboard/search.html", context)
