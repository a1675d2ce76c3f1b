from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from accounts.ratelimit import check_rate
from pinboard import services
from pinboard.forms import CommentForm, SavePinForm
from pinboard.models import Comment, Pin
from pinboard.views.toggles import toggle_answer

MORE_FROM_BOARD = 12


def _visible_pin(request, pk: int) -> Pin:
    """The pin with what its page shows, or 404 for anyone who may not see its board."""
    visible = Pin.objects.visible_to(request.user)
    # for_cards() brings `owner_blocked`, the flag behind hidden like, save and comment
    # controls: the rule services.pin_blocked_for enforces.
    pins = (
        visible.for_cards(request.user)
        .with_can_edit(request.user)
        .select_related("board", "saved_from__owner")
        # "Saved from" names the original only where the viewer could open it.
        .annotate(saved_from_visible=Exists(visible.filter(pk=OuterRef("saved_from_id"))))
    )
    return get_object_or_404(pins, pk=pk)


def _comments(pin: Pin, viewer):
    comments = pin.comments.shown_to(viewer).with_can_delete(viewer)
    return comments.select_related("author").order_by("id")


def _render_detail(request, pin: Pin, comment_form: CommentForm, status: int = 200):
    more = (
        Pin.objects.filter(board_id=pin.board_id)
        .exclude(pk=pin.pk)
        .for_cards(request.user)
        .newest_first()[:MORE_FROM_BOARD]
    )
    context = {
        "pin": pin,
        "comments": _comments(pin, request.user),
        "comment_form": comment_form,
        # "More from this board" reuses the grid partial, as one page with no next page.
        "page": {"items": more},
        "cursor": None,
        "next_url": "",
        "empty_message": "Nothing else on this board yet.",
    }
    return render(request, "pinboard/pin_detail.html", context, status=status)


def pin_detail(request, pk: int):
    return _render_detail(request, _visible_pin(request, pk), CommentForm())


@login_required
def pin_save(request, pk: int):
    """The board picker: save a visible pin to one of your boards, or to a new one."""
    pin = _visible_pin(request, pk)
    form = SavePinForm(
        request.POST if request.method == "POST" else None, user=request.user, pin=pin
    )
    if request.method == "POST" and form.is_valid():
        # A save makes a pin of your own, so it counts against the same hourly limit.
        page = partial(render, request, "pinboard/pin_save.html", {"pin": pin, "form": form})
        check_rate(action="pin", key=request.user.pk, page=page)
        try:
            if form.cleaned_data["new_board_name"]:
                saved = services.pin_save_to_new_board(
                    user=request.user,
                    pin=pin,
                    board_name=form.cleaned_data["new_board_name"],
                    is_secret=form.cleaned_data["new_board_secret"] or form.secret_only,
                )
            else:
                saved = services.pin_save(
                    user=request.user, pin=pin, board=form.cleaned_data["board"]
                )
        except ValidationError as exc:
            form.add_error("new_board_name" if exc.code == "name_taken" else None, exc)
        else:
            message = f"Saved to {saved.board.name}."
            if request.htmx:
                response = render(request, "pinboard/pin_save.html#saved", {"saved": saved})
                return trigger_client_event(
                    response, "toast", {"message": message, "level": "success"}
                )
            messages.success(request, message)
            return redirect(pin)
    if not request.htmx:
        template = "pinboard/pin_save.html"
    elif request.method == "POST":  # errors, shown inside the open dialog
        template = "pinboard/pin_save.html#picker_form"
    else:
        template = "pinboard/pin_save.html#dialog"
    return render(request, template, {"pin": pin, "form": form})


@require_POST
@login_required
def pin_like(request, pk: int):
    """Like or unlike. The form says which, so a double submit can't flip it back."""
    pin = _visible_pin(request, pk)
    refused = ""
    try:
        if request.POST.get("like") == "1":
            services.pin_like(user=request.user, pin=pin)
        else:
            services.pin_unlike(user=request.user, pin=pin)
    except ValidationError as exc:
        refused = exc.messages[0]
    return toggle_answer(
        request,
        fragment="pinboard/pin_detail.html#like_button",
        context=lambda: {"pin": _visible_pin(request, pk)},
        refused=refused,
        back_to=pin,
    )


@require_POST
@login_required
def comment_create(request, pk: int):
    pin = _visible_pin(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        page = partial(_render_detail, request, pin, form)
        check_rate(action="comment", key=request.user.pk, page=page)
        try:
            services.comment_create(author=request.user, pin=pin, text=form.cleaned_data["text"])
        except ValidationError as exc:  # refused (a block): shown where the form was
            form.add_error(None, exc)
        else:
            form = CommentForm()
    if request.htmx:
        context = {
            "pin": _visible_pin(request, pk),
            "comments": _comments(pin, request.user),
            "comment_form": form,
        }
        return render(request, "pinboard/pin_detail.html#comments", context)
    if form.is_bound:  # invalid: show the page again with the error and the typed text
        return _render_detail(request, pin, form, status=400)
    return redirect(f"{pin.get_absolute_url()}#comments")


@require_POST
@login_required
def comment_delete(request, pk: int):
    comment = get_object_or_404(Comment.objects.deletable_by(request.user), pk=pk)
    pin = comment.pin
    services.comment_delete(comment=comment, user=request.user)
    if request.htmx:
        context = {
            "pin": _visible_pin(request, pin.pk),
            "comments": _comments(pin, request.user),
            "comment_form": CommentForm(),
        }
        return render(request, "pinboard/pin_detail.html#comments", context)
    messages.success(request, "Comment deleted.")
    return redirect(f"{pin.get_absolute_url()}#comments")
