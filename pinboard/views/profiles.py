from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from accounts.services import user_follow, user_unfollow
from pinboard.covers import attach_covers
from pinboard.models import Board, Pin
from pinboard.pagination import keyset_page, parse_cursor
from pinboard.views.toggles import toggle_answer


def _person_with_counts(viewer, username: str):
    people = get_user_model().objects.active().with_follow_counts(viewer).with_block_state(viewer)
    return get_object_or_404(people, username__iexact=username)


def profile(request, username: str):
    person = _person_with_counts(request.user, username)
    # With a block either way, the profile shows what a signed-out visitor would see: public
    # boards and pins, and no follow, message, save or like controls. It still renders (a 404
    # would tell the blocked person they were blocked, and the page is public anyway).
    as_visitor = person.blocked_by_viewer or person.blocks_viewer
    viewer = AnonymousUser() if as_visitor else request.user
    cursor = parse_cursor(request.GET.get("after"))
    created = Pin.objects.visible_to(viewer).filter(owner=person, saved_from__isnull=True)
    page = keyset_page(created.for_cards(viewer), after=cursor)
    context = {
        "person": person,
        "as_visitor": as_visitor,
        "page": page,
        "cursor": cursor,
        "next_url": f"?after={page.next_cursor}" if page.has_next else "",
        "empty_message": f"{person.name} hasn't created any pins yet.",
    }
    if request.htmx and cursor is not None:
        return render(request, "pinboard/components.html#pin_items", context)
    boards = list(
        Board.objects.visible_to(viewer)
        .filter(owner=person)
        .with_pin_count()
        .order_by("-updated_at", "-id")
    )
    context["boards"] = attach_covers(boards)
    return render(request, "pinboard/profile.html", context)


@require_POST
@login_required
def follow(request, username: str):
    person = get_object_or_404(get_user_model().objects.active(), username__iexact=username)
    refused = ""
    if request.POST.get("follow") == "1":
        try:
            user_follow(follower=request.user, followee=person)
        except ValidationError as exc:  # yourself, or a block either way: nothing stored
            refused = exc.messages[0]
    else:
        user_unfollow(follower=request.user, followee=person)
    return toggle_answer(
        request,
        fragment="pinboard/profile.html#follow_button",
        context=lambda: {"person": _person_with_counts(request.user, username)},
        refused=refused,
        back_to=person,
    )
