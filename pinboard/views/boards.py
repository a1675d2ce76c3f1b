from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pinboard import services
from pinboard.forms import BoardForm, InviteForm
from pinboard.models import Board, BoardFollow, BoardMember, Pin
from pinboard.pagination import keyset_page, parse_cursor


def _visible_board(request, pk: int) -> Board:
    boards = (
        Board.objects.visible_to(request.user)
        .select_related("owner")
        .with_pin_count()
        .with_permissions(request.user)
    )
    if request.user.is_authenticated:
        follows = BoardFollow.objects.filter(user=request.user, board=OuterRef("pk"))
        boards = boards.annotate(followed=Exists(follows))
    return get_object_or_404(boards, pk=pk)


def _pending_invitation(request, pk: int) -> BoardMember | None:
    if not request.user.is_authenticated:
        return None
    return (
        BoardMember.objects.filter(
            board_id=pk, user=request.user, status=BoardMember.Status.INVITED
        )
        .select_related("board__owner", "invited_by")
        .first()
    )


def board_detail(request, pk: int):
    try:
        board = _visible_board(request, pk)
    except Http404:
        # Someone invited to a secret board sees the invitation, and nothing of its pins yet.
        invitation = _pending_invitation(request, pk)
        if invitation is None:
            raise
        return render(request, "pinboard/board_invitation.html", {"invitation": invitation})
    cursor = parse_cursor(request.GET.get("after"))
    page = keyset_page(Pin.objects.filter(board=board).for_cards(request.user), after=cursor)
    context = {
        "board": board,
        "page": page,
        "cursor": cursor,
        "next_url": f"?after={page.next_cursor}" if page.has_next else "",
        "empty_message": "No pins on this board yet.",
    }
    if request.htmx and cursor is not None:
        return render(request, "pinboard/components.html#pin_items", context)
    context.update(
        collaborators=list(
            board.memberships.filter(status=BoardMember.Status.ACCEPTED).select_related("user")
        ),
        invitation=_pending_invitation(request, pk),
    )
    return render(request, "pinboard/board_detail.html", context)


@login_required
def board_create(request):
    form = BoardForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            board = services.board_create(owner=request.user, **form.cleaned_data)
        except services.BoardNameTaken as exc:
            form.add_error("name", exc)
        else:
            messages.success(request, f"Board “{board.name}” created.")
            return redirect(board)
    return render(request, "pinboard/board_form.html", {"form": form})


@login_required
def board_edit(request, pk: int):
    board = get_object_or_404(Board.objects.editable_by(request.user), pk=pk)
    form = BoardForm(request.POST if request.method == "POST" else None, instance=board)
    if request.method == "POST" and form.is_valid():
        try:
            services.board_update(board=board, editor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error("name" if exc.code == "name_taken" else "is_secret", exc)
        else:
            messages.success(request, "Board saved.")
            return redirect(board)
    return render(request, "pinboard/board_form.html", {"form": form, "board": board})


@login_required
def board_delete(request, pk: int):
    board = get_object_or_404(Board.objects.editable_by(request.user).with_pin_count(), pk=pk)
    if request.method == "POST":
        services.board_delete(board=board)
        messages.success(request, f"Board “{board.name}” deleted.")
        return redirect(request.user)
    return render(request, "pinboard/board_confirm_delete.html", {"board": board})


@require_POST
@login_required
def board_follow(request, pk: int):
    board = _visible_board(request, pk)
    if request.POST.get("follow") == "1":
        try:
            services.board_follow(user=request.user, board=board)
        except ValidationError as error:  # your own board, or a block either way
            messages.error(request, error.messages[0])
    else:
        services.board_unfollow(user=request.user, board=board)
    if request.htmx:
        board = _visible_board(request, pk)
        return render(request, "pinboard/board_detail.html#follow_button", {"board": board})
    return redirect(board)


@login_required
def collaborators(request, pk: int):
    """The owner invites and removes collaborators; collaborators see who else is on the board."""
    # Owner and accepted collaborators only: everyone else (invitees too) gets 404.
    board = get_object_or_404(
        Board.objects.pinnable_by(request.user)
        .select_related("owner")
        .with_permissions(request.user),
        pk=pk,
    )
    form = InviteForm(request.POST if request.method == "POST" else None, board=board)
    if request.method == "POST":
        if not board.can_edit:
            raise Http404
        if form.is_valid():
            invitee = form.cleaned_data["username"]
            try:
                services.board_invite(board=board, inviter=request.user, invitee=invitee)
            except ValidationError as error:
                form.add_error("username", error)
            else:
                messages.success(
                    request, f"Invited {invitee.name}. They'll see it on their home page."
                )
                return redirect("board_collaborators", pk=board.pk)
    memberships = board.memberships.select_related("user").order_by("status", "created_at")
    return render(
        request,
        "pinboard/board_collaborators.html",
        {"board": board, "memberships": memberships, "form": form},
    )


@require_POST
@login_required
def collaborator_remove(request, pk: int, user_id: int):
    board = get_object_or_404(Board.objects.editable_by(request.user), pk=pk)
    membership = get_object_or_404(board.memberships.select_related("user"), user_id=user_id)
    services.board_member_remove(board=board, user=membership.user)
    messages.success(request, f"{membership.user.name} is no longer on this board.")
    return redirect("board_collaborators", pk=board.pk)


@require_POST
@login_required
def invitation_respond(request, pk: int):
    invitation = _pending_invitation(request, pk)
    if invitation is None:
        raise Http404
    accept = request.POST.get("accept") == "1"
    services.board_invite_respond(membership=invitation, accept=accept)
    if accept:
        messages.success(request, f"You joined “{invitation.board.name}”.")
        return redirect(invitation.board)
    messages.info(request, f"You declined “{invitation.board.name}”.")
    return redirect("home")


@require_POST
@login_required
def board_leave(request, pk: int):
    membership = get_object_or_404(
        BoardMember.objects.select_related("board"),
        board_id=pk,
        user=request.user,
        status=BoardMember.Status.ACCEPTED,
    )
    services.board_member_remove(board=membership.board, user=request.user)
    messages.success(request, f"You left “{membership.board.name}”.")
    return redirect("home")
