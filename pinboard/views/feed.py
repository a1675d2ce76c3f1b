from django.shortcuts import render

from pinboard.models import BoardMember, Pin, followed_filter
from pinboard.pagination import PAGE_SIZE, KeysetPage, keyset_page, parse_cursor

FOLLOWING = "following"
RECENT = "recent"


def _feed(user, *, phase: str, after: int | None) -> tuple[list[Pin], str]:
    """One page of the home feed and the URL of the next one ("" at the end).

    Signed in: pins from people and boards the person follows, newest first, then recent public
    pins from everyone else. When the followed pins run out mid-page, the page is filled up with
    recent pins, so the grid never looks half empty. Signed out: recent public pins.
    """
    recent = Pin.objects.visible_to(user).for_cards(user)
    if user.is_authenticated:
        follows = followed_filter(user)  # one small query, shared by both phases
        recent = recent.not_followed_by(user, followed=follows)
    if not user.is_authenticated or phase == RECENT:
        page = keyset_page(recent, after=after)
        return page.items, (f"?phase={RECENT}&after={page.next_cursor}" if page.has_next else "")
    followed = keyset_page(
        Pin.objects.followed_by(user, followed=follows).for_cards(user), after=after
    )
    if followed.has_next:
        return followed.items, f"?phase={FOLLOWING}&after={followed.next_cursor}"
    remaining = PAGE_SIZE - len(followed.items)
    if not remaining:
        return followed.items, f"?phase={RECENT}"
    rest = keyset_page(recent, after=None, size=remaining)
    next_url = f"?phase={RECENT}&after={rest.next_cursor}" if rest.has_next else ""
    return followed.items + rest.items, next_url


def home(request):
    is_next_page = "phase" in request.GET
    pins, next_url = _feed(
        request.user,
        phase=request.GET.get("phase", FOLLOWING),
        after=parse_cursor(request.GET.get("after")),
    )
    context = {
        # The shared grid partial wants a page, the next page's URL, and whether this is a
        # follow-up page (`cursor`).
        "page": KeysetPage(items=pins, next_cursor=None),
        "next_url": next_url,
        "cursor": is_next_page,
        "empty_message": "No pins yet. Create the first one!",
    }
    if request.htmx and is_next_page:
        return render(request, "pinboard/components.html#pin_items", context)
    if request.user.is_authenticated:
        context["invitations"] = BoardMember.objects.filter(
            user=request.user, status=BoardMember.Status.INVITED
        ).select_related("board", "invited_by")
    return render(request, "pinboard/home.html", context)
