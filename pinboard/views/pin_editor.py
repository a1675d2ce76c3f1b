"""Creating, editing and deleting pins.

Each view: fetch through a queryset rule (only the owner may edit or delete: anyone else gets 404)
→ validate with PinForm → call a service → redirect. The create page works as a plain multipart
form; with htmx it posts in place (so the upload can show progress and the chosen file survives a
validation error) and a success answers with a client-side redirect.
"""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.ratelimit import check_rate
from pinboard import services
from pinboard.forms import PinForm
from pinboard.models import Pin


def _redirect(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def pin_create(request):
    # ?board=<id> preselects a board (the "Add a pin" link of a board page); an id that is not one
    # of the person's boards simply selects nothing.
    form = PinForm(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        user=request.user,
        initial={"board": request.GET.get("board")},
    )
    if request.method == "POST" and form.is_valid():
        page = partial(render, request, "pinboard/pin_create.html", {"form": form})
        check_rate(action="pin", key=request.user.pk, page=page)
        data = form.cleaned_data
        pin_fields = {
            "image": data["image"],
            "title": data["title"],
            "description": data["description"],
            "source_url": data["source_url"],
        }
        try:
            if data["board"]:
                pin = services.pin_create(owner=request.user, board=data["board"], **pin_fields)
            else:
                pin = services.pin_create_on_new_board(
                    owner=request.user,
                    board_name=data["new_board_name"],
                    board_is_secret=data["new_board_secret"],
                    **pin_fields,
                )
            board = pin.board
        except services.BoardNameTaken as exc:
            form.add_error("new_board_name", exc)
        except PermissionDenied as exc:  # the person left a shared board since the page loaded
            form.add_error("board", str(exc))
        else:
            messages.success(request, f"Pin saved to {board.name}.")
            return _redirect(request, board.get_absolute_url())
    template = "pinboard/pin_create.html"
    if request.htmx:
        template += "#pin_form"
    return render(request, template, {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def pin_edit(request, pk: int):
    pin = get_object_or_404(Pin.objects.editable_by(request.user).select_related("image"), pk=pk)
    form = PinForm(
        request.POST if request.method == "POST" else None, instance=pin, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.pin_update(
                pin=pin,
                editor=request.user,
                title=data["title"],
                description=data["description"],
                source_url=data["source_url"],
                board=data["board"],
            )
        except (PermissionDenied, ValidationError) as exc:
            form.add_error("board", exc.messages[0] if hasattr(exc, "messages") else str(exc))
        else:
            messages.success(request, "Pin updated.")
            return _redirect(request, pin.get_absolute_url())
    return render(request, "pinboard/pin_edit.html", {"form": form, "pin": pin})


@login_required
@require_http_methods(["GET", "POST"])
def pin_delete(request, pk: int):
    pin = get_object_or_404(
        Pin.objects.editable_by(request.user).select_related("board", "image"), pk=pk
    )
    if request.method == "POST":
        board = pin.board
        services.pin_delete(pin=pin)
        messages.success(request, f"Pin deleted from {board.name}.")
        return _redirect(request, board.get_absolute_url())
    # With htmx (a "Delete" button that targets #dialog-slot) the question is a modal dialog.
    template = "pinboard/pin_delete.html"
    if request.htmx:
        template += "#dialog"
    return render(request, template, {"pin": pin})
