from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.services import user_follow, user_unfollow
from pinboard.covers import attach_covers
from pinboard.models import Board, Pin
from pinboard.pagination import keyset_page, parse_cursor


def _person_with_counts(viewer, username: str):
    people = get_user_model().objects.active().with_follow_counts(viewer)
    return get_object_or_404(people, username__iexact=username)


def profile(request, username: str):
    person = _person_with_counts(request.user, username)
    cursor = parse_cursor(request.GET.get("after"))
    created = Pin.objects.visible_to(request.user).filter(owner=person, saved_from__isnull=True)
    page = keyset_page(created.for_cards(request.user), after=cursor)
    context = {
        "person": person,
        "page": page,
        "cursor": cursor,
        "next_url": f"?after={page.next_cursor}" if page.has_next else "",
        "empty_message": f"{person.name} hasn't created any pins yet.",
    }
    if request.htmx and cursor is not None:
        return render(request, "pinboard/components.html#pin_items", context)
    boards = list(
        Board.objects.visible_to(request.user)
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
    if person == request.user:
        messages.error(request, "You can't follow yourself.")
    elif request.POST.get("follow") == "1":
        user_follow(follower=request.user, followee=person)
    else:
        user_unfollow(follower=request.user, followee=person)
    if request.htmx:
        person = _person_with_counts(request.user, username)
        return render(request, "pinboard/profile.html#follow_button", {"person": person})
    return redirect(person)
