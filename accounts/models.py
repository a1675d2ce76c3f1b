import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse


def avatar_path(user: "User", filename: str) -> str:
    # Unguessable names: an avatar URL reveals nothing and cannot be enumerated.
    return f"avatars/{secrets.token_urlsafe(16)}.webp"


class UserQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def search(self, text: str):
        """Active people whose username starts with the text or whose display name contains it."""
        return self.active().filter(
            models.Q(username__istartswith=text) | models.Q(display_name__icontains=text)
        )

    def with_follow_counts(self, viewer=None):
        """Follower and following counts (and whether `viewer` follows), without row fan-out."""

        def count(field: str):
            rows = Follow.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
            return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

        queryset = self.annotate(
            follower_count=count("followee"), following_count=count("follower")
        )
        if viewer is not None and viewer.is_authenticated:
            follows = Follow.objects.filter(follower=viewer, followee=OuterRef("pk"))
            queryset = queryset.annotate(followed=Exists(follows))
        return queryset

    def with_block_state(self, viewer=None):
        """`blocked_by_viewer` (the viewer blocked this person) and `blocks_viewer` (this person
        blocked the viewer), as annotations: the flags templates ask before offering a follow,
        message or unblock button, computed by the same rule the services enforce. And
        `is_viewer`: this person is the viewer (their own profile: edit it, never follow it)."""
        if viewer is None or not viewer.is_authenticated:
            no = models.Value(False)
            return self.annotate(blocked_by_viewer=no, blocks_viewer=no, is_viewer=no)
        return self.annotate(
            blocked_by_viewer=Exists(Block.objects.filter(blocker=viewer, blocked=OuterRef("pk"))),
            blocks_viewer=Exists(Block.objects.filter(blocker=OuterRef("pk"), blocked=viewer)),
            is_viewer=models.ExpressionWrapper(Q(pk=viewer.pk), output_field=models.BooleanField()),
        )

    def not_blocked_with(self, viewer):
        """People with no block either way with `viewer`: the two cannot find each other."""
        if viewer is None or not viewer.is_authenticated:
            return self
        return self.exclude(Exists(Block.objects.between(viewer, OuterRef("pk"))))


class PinboardUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    class MessagePrivacy(models.TextChoices):
        EVERYONE = "everyone", "Everyone"
        FOLLOWING = "following", "People I follow"
        NOBODY = "nobody", "Nobody"

    display_name = models.CharField(
        "display name",
        max_length=80,
        blank=True,
        help_text="Shown instead of your username. Leave empty to use your username.",
    )
    bio = models.TextField(max_length=500, blank=True)
    avatar = models.ImageField(upload_to=avatar_path, blank=True)
    # Who may start a conversation with this person (or add them to one) without it becoming
    # a message request that waits in their inbox's Requests tab.
    message_privacy = models.CharField(
        "who can message me",
        max_length=12,
        choices=MessagePrivacy,
        default=MessagePrivacy.EVERYONE,
    )

    objects = PinboardUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    def may_be_followed_by(self, user) -> bool:
        """Anyone signed in may follow a person but that person (services.user_follow refuses
        that, and blocks either way; a "Follow" button asks this)."""
        return user is not None and user.is_authenticated and self.pk != user.pk

    def get_absolute_url(self) -> str:
        return reverse("profile", kwargs={"username": self.username})

    @property
    def name(self) -> str:
        """What people see: the display name, or the username when there is none."""
        return self.display_name or self.username

    @property
    def initial(self) -> str:
        return self.name[:1].upper()


class Follow(models.Model):
    """One person following another; their pins come first in the follower's home feed."""

    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following_set")
    followee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follower_set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="accounts_follow_unique"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")),
                name="accounts_follow_not_self",
            ),
        ]
        indexes = [models.Index(fields=["followee"], name="accounts_follow_followee_idx")]

    def __str__(self) -> str:
        # Ids only, never related rows: the admin's delete confirmation of a person lists every
        # follow, and loading both people there was two queries per row.
        return f"Follow {self.pk}: user {self.follower_id} follows user {self.followee_id}"


class BlockQuerySet(models.QuerySet):
    def between(self, user, other):
        """Blocks either way between two people (blocking is mutual in effect)."""
        return self.filter(
            models.Q(blocker=user, blocked=other) | models.Q(blocker=other, blocked=user)
        )

    def involving(self, user):
        return self.filter(models.Q(blocker=user) | models.Q(blocked=user))


class Block(models.Model):
    """`blocker` no longer hears from `blocked`, and the two stop seeing each other. Silent: the
    blocked person is never told."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="accounts_block_unique"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="accounts_block_not_self"
            ),
        ]
        indexes = [models.Index(fields=["blocked"], name="accounts_block_blocked_idx")]

    def __str__(self) -> str:
        # Ids only, never related rows: see Follow.__str__.
        return f"Block {self.pk}: user {self.blocker_id} blocks user {self.blocked_id}"


class RateCount(models.Model):
    """One rate-limit counter: how often `subject` (usually a person's id) did `action` in the
    fixed window that ends at `expires_at`. Written only by accounts/ratelimit.py, with one upsert
    that starts the count again when a new window begins, so the table holds at most one row per
    person and action; `manage.py prune_rate_counts` deletes the expired ones."""

    # A composite key rather than one "action:subject" string: a unique varchar would also get
    # a second (LIKE pattern) index on PostgreSQL, written on every insert for nothing.
    pk = models.CompositePrimaryKey("action", "subject")
    action = models.CharField(max_length=40)
    subject = models.CharField(max_length=150)
    count = models.PositiveIntegerField()
    # No index: the daily prune can scan this narrow table, and an unindexed column keeps the
    # counter's updates HOT (no index write per count).
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.action} by {self.subject}: {self.count} until {self.expires_at:%H:%M:%S}"
