"""Writes to accounts: every change to a user goes through here."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import signals
from accounts.images import NormalizedImage
from accounts.models import Block, Follow, User

# Said to someone who tries to follow a person they blocked or who blocked them. Neutral on
# purpose: blocking is silent, so the message never says who blocked whom.
FOLLOW_REFUSED = "You can't follow this person."
FOLLOW_SELF = "You can't follow yourself."


def _delete_file_on_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    display_name: str,
    bio: str,
    avatar: NormalizedImage | None = None,
    remove_avatar: bool = False,
) -> User:
    """Update what others see of a person. A replaced avatar file is deleted after commit."""
    old_avatar = user.avatar.name if user.avatar else ""
    user.display_name = display_name.strip()
    user.bio = bio.strip()
    if avatar is not None:
        user.avatar.save(f"avatar.{avatar.extension}", ContentFile(avatar.content), save=False)
    elif remove_avatar:
        user.avatar = None
    user.save(update_fields=["display_name", "bio", "avatar"])
    if old_avatar and old_avatar != (user.avatar.name if user.avatar else ""):
        _delete_file_on_commit(old_avatar)
    return user


@transaction.atomic
def user_follow(*, follower: User, followee: User) -> None:
    """Following twice is harmless. Following yourself is refused here (and by the database's
    check constraint too), like following across a block: a ValidationError the view shows."""
    if not followee.may_be_followed_by(follower):
        raise ValidationError(FOLLOW_SELF, code="self")
    if Block.objects.between(follower, followee).exists():
        raise ValidationError(FOLLOW_REFUSED, code="blocked")
    Follow.objects.bulk_create(
        [Follow(follower=follower, followee=followee)], ignore_conflicts=True
    )
    # Once committed, for messaging's notifications (accounts may not import messaging).
    transaction.on_commit(
        lambda: signals.user_followed.send(sender=None, follower=follower, followee=followee)
    )


@transaction.atomic
def user_unfollow(*, follower: User, followee: User) -> None:
    Follow.objects.filter(follower=follower, followee=followee).delete()


@transaction.atomic
def user_block(*, blocker: User, blocked: User) -> None:
    """Block a person: silent (they are not told), idempotent (blocking twice is one block), and
    it ends following both ways, since neither may follow the other while the block stands."""
    if blocker.pk == blocked.pk:
        raise ValidationError("You can't block yourself.", code="self")
    Block.objects.bulk_create([Block(blocker=blocker, blocked=blocked)], ignore_conflicts=True)
    Follow.objects.filter(
        Q(follower=blocker, followee=blocked) | Q(follower=blocked, followee=blocker)
    ).delete()


@transaction.atomic
def user_unblock(*, blocker: User, blocked: User) -> None:
    """Lift a block. Follows ended by the block are not restored; unblocking twice is harmless."""
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()


def user_end_sessions(*, user: User) -> None:
    """Delete every session the person is signed in with, so they are signed out everywhere at
    once. Sessions do not index the user, so the unexpired ones are decoded and compared."""
    user_pk = str(user.pk)
    theirs = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(2000)
        if session.get_decoded().get(SESSION_KEY) == user_pk
    ]
    Session.objects.filter(pk__in=theirs).delete()


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete an account for good. What goes and what stays is decided by each model's
    `on_delete` (DESIGN.md §2: accounts does not reach into other apps):

    - their profile, boards (with every pin on them), pins, likes, comments, follows, blocks,
      board memberships and places in conversations go (CASCADE);
    - their messages stay in others' conversations, signed "deleted user" (SET_NULL), and
      others' saves of their pins stay, with the shared image (PinImage has no owner; a save
      only loses its "saved from" link, SET_NULL);
    - all their sessions end.

    Their avatar file is deleted after commit. Pin images no pin uses any more are left to
    `manage.py prune_media`: finding them is pinboard's business, not accounts'.
    """
    avatar = user.avatar.name if user.avatar else ""
    user_end_sessions(user=user)
    user.delete()
    _delete_file_on_commit(avatar)


@transaction.atomic
def user_set_message_privacy(*, user: User, message_privacy: str) -> User:
    """Who may start a conversation with this person (or add them to one) without it becoming a
    message request. Applies to new conversations and adds; those already open stay as they are."""
    if message_privacy not in User.MessagePrivacy.values:
        raise ValidationError("Choose one of the three options.", code="invalid_choice")
    user.message_privacy = message_privacy
    user.save(update_fields=["message_privacy"])
    return user
