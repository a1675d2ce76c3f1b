"""Writes to accounts: every change to a user goes through here."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.images import NormalizedImage
from accounts.models import Follow, User


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
    """Following twice is harmless; following yourself is refused by the database too."""
    if follower.pk == followee.pk:
        raise ValueError("People cannot follow themselves.")
    Follow.objects.bulk_create(
        [Follow(follower=follower, followee=followee)], ignore_conflicts=True
    )


@transaction.atomic
def user_unfollow(*, follower: User, followee: User) -> None:
    Follow.objects.filter(follower=follower, followee=followee).delete()
