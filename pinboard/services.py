"""Every write to boards and pins. Keyword-only arguments, one transaction each, side effects
(file deletion) only after commit."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.images import NormalizedImage
from accounts.models import Block, User
from accounts.services import user_end_sessions
from pinboard import signals
from pinboard.images import pin_image_discard, pin_image_store, pin_images_delete_unused
from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin


class BoardNameTaken(ValidationError):
    pass


def _name_taken_message(name: str) -> str:
    return f"You already have a board called “{name}”. Choose another name."


def _name_taken(owner: User, name: str, *, exclude_pk: int | None = None) -> bool:
    # Compare exactly as the unique constraint does (PostgreSQL's lower()), not with Python's.
    boards = Board.objects.filter(owner=owner).annotate(lower_name=Lower("name"))
    if exclude_pk is not None:
        boards = boards.exclude(pk=exclude_pk)
    return boards.filter(lower_name=Lower(Value(name))).exists()


def _announce(signal, **kwargs) -> None:
    """Send a signal (pinboard/signals.py) once the write commits: a rolled-back save is no news."""
    transaction.on_commit(lambda: signal.send(sender=None, **kwargs))


# --- Boards -----------------------------------------------------------------------------------


@transaction.atomic
def board_create(
    *, owner: User, name: str, description: str = "", is_secret: bool = False
) -> Board:
    name = name.strip()
    if _name_taken(owner, name):
        raise BoardNameTaken(_name_taken_message(name), code="name_taken")
    try:
        with transaction.atomic():
            return Board.objects.create(
                owner=owner, name=name, description=description.strip(), is_secret=is_secret
            )
    except IntegrityError:  # created by a concurrent request since we looked
        raise BoardNameTaken(_name_taken_message(name), code="name_taken") from None


# Said when someone who does not own a board tries to change it (Board.objects.editable_by).
BOARD_EDIT_REFUSED = "Only the board's owner can change its name, description or secrecy."
INVITE_REFUSED = "Only the board's owner can invite collaborators."


def _may_edit_board(user: User, board: Board) -> bool:
    return Board.objects.editable_by(user).filter(pk=board.pk).exists()


@transaction.atomic
def board_update(
    *, board: Board, editor: User, name: str, description: str, is_secret: bool
) -> Board:
    """Change a board's settings: only as its owner (the rule the board page's "Edit board" and
    the edit view read, Board.objects.editable_by)."""
    if not _may_edit_board(editor, board):
        raise PermissionDenied(BOARD_EDIT_REFUSED)
    name = name.strip()
    if _name_taken(board.owner, name, exclude_pk=board.pk):
        raise BoardNameTaken(_name_taken_message(name), code="name_taken")
    if not is_secret and board.pins.filter(from_secret_board=True).exists():
        raise ValidationError(
            "This board holds pins saved from secret boards. Making it public would publish "
            "them: move or delete those pins first.",
            code="holds_secret_saves",
        )
    board.name = name
    board.description = description.strip()
    board.is_secret = is_secret
    try:
        with transaction.atomic():
            board.save(update_fields=["name", "description", "is_secret", "updated_at"])
    except IntegrityError:  # renamed to the same name by a concurrent request
        raise BoardNameTaken(_name_taken_message(name), code="name_taken") from None
    return board


@transaction.atomic
def board_delete(*, board: Board) -> None:
    """Delete a board and its pins. Other people's saves of those pins are separate pins on their
    own boards and stay; image files go only when no pin uses them any more."""
    image_ids = set(board.pins.values_list("image_id", flat=True))
    board.delete()
    pin_images_delete_unused(image_ids)


@transaction.atomic
def board_invite(*, board: Board, inviter: User, invitee: User) -> BoardMember:
    if not _may_edit_board(inviter, board):
        raise PermissionDenied(INVITE_REFUSED)
    if invitee.pk == board.owner_id:
        raise ValidationError("You own this board already.", code="owner")
    if Block.objects.between(inviter, invitee).exists():
        raise ValidationError(f"You can't invite {invitee.name}.", code="blocked")
    membership, _ = BoardMember.objects.get_or_create(
        board=board, user=invitee, defaults={"invited_by": inviter}
    )
    _announce(signals.board_invited, board=board, inviter=inviter, invitee=invitee)
    return membership


@transaction.atomic
def board_invite_those_who_cannot_see(
    *, board: Board, inviter: User, people: list[User]
) -> list[User]:
    """Invite, as collaborators, the people who can't see the board yet (someone a secret pin
    or board was refused for). Returns who was invited."""
    if not _may_edit_board(inviter, board):
        raise PermissionDenied(INVITE_REFUSED)
    invited = []
    for person in people:
        if not Board.objects.visible_to(person).filter(pk=board.pk).exists():
            board_invite(board=board, inviter=inviter, invitee=person)
            invited.append(person)
    return invited


@transaction.atomic
def board_invite_respond(*, membership: BoardMember, accept: bool) -> None:
    if accept:
        membership.status = BoardMember.Status.ACCEPTED
        membership.save(update_fields=["status"])
        _announce(signals.board_invitation_accepted, membership=membership)
    else:
        membership.delete()


@transaction.atomic
def board_member_remove(*, board: Board, user: User) -> None:
    """The owner removes a collaborator, or a collaborator leaves. Their pins stay on the board."""
    BoardMember.objects.filter(board=board, user=user).delete()


@transaction.atomic
def board_follow(*, user: User, board: Board) -> None:
    """Following twice is harmless; your own board, or across a block (either way), refused."""
    if not board.may_be_followed_by(user):
        raise ValidationError("You can't follow your own board.", code="own_board")
    if Block.objects.between(user, board.owner_id).exists():
        raise ValidationError("You can't follow this board.", code="blocked")
    BoardFollow.objects.bulk_create([BoardFollow(user=user, board=board)], ignore_conflicts=True)


@transaction.atomic
def board_unfollow(*, user: User, board: Board) -> None:
    BoardFollow.objects.filter(user=user, board=board).delete()


# --- Pins -------------------------------------------------------------------------------------

# Said when someone tries to pin onto a board that is neither theirs nor one they collaborate on.
PIN_ON_BOARD_REFUSED = "You can only add pins to your own boards and to boards you collaborate on."
PIN_EDIT_REFUSED = "You can only edit your own pins."


def _may_pin_on(user: User, board: Board) -> bool:
    """The one rule for where a person may put a pin (create, move, save): Board.pinnable_by,
    which is also what every board picker lists."""
    return Board.objects.pinnable_by(user).filter(pk=board.pk).exists()


def pin_create(
    *,
    owner: User,
    board: Board,
    image: NormalizedImage,
    title: str,
    description: str = "",
    source_url: str = "",
) -> Pin:
    """Store the image (and its renditions) and create the pin; on any failure nothing is left,
    neither rows nor files."""
    stored = None
    try:
        with transaction.atomic():
            if not _may_pin_on(owner, board):
                raise PermissionDenied(PIN_ON_BOARD_REFUSED)
            stored = pin_image_store(image)
            return Pin.objects.create(
                owner=owner,
                board=board,
                image=stored,
                title=title.strip(),
                description=description.strip(),
                source_url=source_url.strip(),
            )
    except BaseException:
        if stored is not None:
            pin_image_discard(stored)
        raise


@transaction.atomic
def pin_create_on_new_board(
    *, owner: User, board_name: str, board_is_secret: bool, **pin_fields
) -> Pin:
    """Create a board and the first pin on it, together or not at all."""
    board = board_create(owner=owner, name=board_name, is_secret=board_is_secret)
    return pin_create(owner=owner, board=board, **pin_fields)


@transaction.atomic
def pin_update(
    *, pin: Pin, editor: User, title: str, description: str, source_url: str, board: Board
) -> Pin:
    if not Pin.objects.editable_by(editor).filter(pk=pin.pk).exists():
        raise PermissionDenied(PIN_EDIT_REFUSED)
    if not _may_pin_on(editor, board):
        raise PermissionDenied("You can only move pins to your boards.")
    if pin.from_secret_board and not board.is_secret:
        raise ValidationError(_SECRET_TO_PUBLIC, code="secret_to_public")
    if board.pk != pin.board_id and Board.objects.hidden().filter(pk=pin.board_id).exists():
        # Its pins are hidden with the board: moving one away would publish it again.
        raise ValidationError(HIDDEN_MOVE, code="hidden")
    pin.title = title.strip()
    pin.description = description.strip()
    pin.source_url = source_url.strip()
    pin.board = board
    pin.save(update_fields=["title", "description", "source_url", "board"])
    return pin


@transaction.atomic
def pin_delete(*, pin: Pin) -> None:
    image_id = pin.image_id
    pin.delete()
    pin_images_delete_unused({image_id})


_SECRET_TO_PUBLIC = "This pin is on a secret board, so it can only be saved to a secret board."
HIDDEN_SAVE = "Pinboard's moderators hid this pin, so it can't be saved."
HIDDEN_MOVE = "Pinboard's moderators hid this board, so its pins can't be moved to another board."

# Said when a block stands between a person and a pin's owner (either blocked the other). Neutral
# on purpose: blocking is silent, so the message never says who blocked whom.
BLOCKED_SAVE = "You can't save this pin."
BLOCKED_LIKE = "You can't like this pin."
BLOCKED_COMMENT = "You can't comment on this pin."


def pin_blocked_for(*, user: User, pin: Pin) -> bool:
    """Whether a block, either way, stands between the person and the pin's owner: then they
    may not save, like or comment on it. Templates get the same answer from the owner_blocked
    flag (pinboard/views/pins.py), so the buttons they hide are the ones refused here."""
    return Block.objects.between(user, pin.owner_id).exists()


def pin_may_be_saved_to(*, pin: Pin, board: Board) -> bool:
    """A pin seen only through a secret board may be saved only to a secret board: otherwise a
    collaborator's save would publish it."""
    return board.is_secret or not pin.board.is_secret


@transaction.atomic
def pin_save(*, user: User, pin: Pin, board: Board) -> Pin:
    """Save (repin) a visible pin to one of the person's boards. The save shares the image file."""
    if not _may_pin_on(user, board):
        raise PermissionDenied("You can only save pins to your boards.")
    if not Pin.objects.visible_to(user).filter(pk=pin.pk).exists():
        raise PermissionDenied("You can only save pins you can see.")
    if Pin.objects.hidden().filter(pk=pin.pk).exists():
        # Only the owner still sees a hidden pin: a save would publish it again.
        raise ValidationError(HIDDEN_SAVE, code="hidden")
    if pin_blocked_for(user=user, pin=pin):
        raise ValidationError(BLOCKED_SAVE, code="blocked")
    if not pin_may_be_saved_to(pin=pin, board=board):
        raise ValidationError(_SECRET_TO_PUBLIC, code="secret_to_public")
    saved_pin = Pin.objects.create(
        owner=user,
        board=board,
        image_id=pin.image_id,
        title=pin.title,
        description=pin.description,
        source_url=pin.source_url,
        saved_from=pin,
        # Remembered for good (the original may be deleted later): this save must stay secret.
        from_secret_board=pin.board.is_secret,
    )
    _announce(signals.pin_saved, user=user, pin=pin, saved_pin=saved_pin)
    return saved_pin


@transaction.atomic
def pin_like(*, user: User, pin: Pin) -> None:
    """Liking twice is harmless: the unique constraint turns the second into a no-op. A like made
    before a block stays (like a comment) and may still be taken back; new ones are refused."""
    if pin_blocked_for(user=user, pin=pin):
        raise ValidationError(BLOCKED_LIKE, code="blocked")
    Like.objects.bulk_create([Like(user=user, pin=pin)], ignore_conflicts=True)
    _announce(signals.pin_liked, user=user, pin=pin)


@transaction.atomic
def pin_unlike(*, user: User, pin: Pin) -> None:
    Like.objects.filter(user=user, pin=pin).delete()


# --- Comments ---------------------------------------------------------------------------------


@transaction.atomic
def comment_create(*, author: User, pin: Pin, text: str) -> Comment:
    # Comments written before a block stay; new ones are refused.
    if pin_blocked_for(user=author, pin=pin):
        raise ValidationError(BLOCKED_COMMENT, code="blocked")
    comment = Comment.objects.create(author=author, pin=pin, text=text.strip())
    _announce(signals.pin_commented, comment=comment)
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, user: User) -> None:
    """Only its author deletes a comment (Comment.objects.deletable_by, also the "Delete" flag)."""
    if not Comment.objects.deletable_by(user).filter(pk=comment.pk).exists():
        raise PermissionDenied("You can only delete your own comments.")
    comment.delete()


@transaction.atomic
def pin_save_to_new_board(*, user: User, pin: Pin, board_name: str, is_secret: bool) -> Pin:
    """Create a board and save the pin to it, together or not at all."""
    board = board_create(owner=user, name=board_name, is_secret=is_secret)
    return pin_save(user=user, pin=pin, board=board)


# --- Moderation -------------------------------------------------------------------------------
# Hiding keeps the row (it can be restored) and removes it from every page but its owner's: the
# read rules in pinboard/models.py check `hidden_at`. Called by the admin and the report queue.


def _set_hidden(row: Board | Pin | Comment, hidden: bool):
    """Set or clear the moderation flag; hiding twice keeps the first time."""
    if hidden != (row.hidden_at is not None):
        row.hidden_at = timezone.now() if hidden else None
        row.save(update_fields=["hidden_at"])
    return row


@transaction.atomic
def pin_set_hidden(*, pin: Pin, hidden: bool) -> Pin:
    """Hide a pin from everyone but its owner, or show it again."""
    return _set_hidden(pin, hidden)


@transaction.atomic
def board_set_hidden(*, board: Board, hidden: bool) -> Board:
    """Hide a board, and with it every pin on it, from everyone but its owner (and each pin's
    owner). Unhiding the board brings back the pins that were not hidden on their own."""
    return _set_hidden(board, hidden)


@transaction.atomic
def comment_set_hidden(*, comment: Comment, hidden: bool) -> Comment:
    return _set_hidden(comment, hidden)


@transaction.atomic
def user_deactivate(*, user: User, hide_content: bool) -> User:
    """Deactivate an account: the person can no longer sign in and is signed out everywhere.
    With `hide_content`, their boards, pins and comments are hidden too (a few bulk UPDATEs,
    whatever their number; already-hidden ones keep their original time)."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    if hide_content:
        now = timezone.now()
        Board.objects.filter(owner=user, hidden_at__isnull=True).update(hidden_at=now)
        Pin.objects.filter(owner=user, hidden_at__isnull=True).update(hidden_at=now)
        Comment.objects.filter(author=user, hidden_at__isnull=True).update(hidden_at=now)
    user_end_sessions(user=user)
    return user


@transaction.atomic
def user_reactivate(*, user: User, unhide_content: bool) -> User:
    """Let a deactivated person sign in again; with `unhide_content`, show all their boards,
    pins and comments again (including any hidden one by one)."""
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    if unhide_content:
        Board.objects.filter(owner=user, hidden_at__isnull=False).update(hidden_at=None)
        Pin.objects.filter(owner=user, hidden_at__isnull=False).update(hidden_at=None)
        Comment.objects.filter(author=user, hidden_at__isnull=False).update(hidden_at=None)
    return user
