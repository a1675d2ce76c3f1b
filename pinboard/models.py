"""Boards, pins and what people do with them. Read rules live on the querysets (DESIGN.md §3.1)."""

import secrets

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce, Lower
from django.urls import reverse
from django.utils.functional import cached_property
from imagekit.models import ImageSpecField
from imagekit.processors import ResizeToFit

from accounts.models import Block, Follow

SEARCH_CONFIG = "english"
# The masonry grid's geometry, shared with static/css/app.css (.pin-grid): column width, the
# height of a card's caption, the gap between cards and the grid's row unit, in CSS pixels.
GRID_WIDTH = 236
GRID_CARD_CAPTION = 64
GRID_GAP = 16
GRID_ROW = 4
DETAIL_WIDTH = 736


def _search_vector(*, title: str, body: str) -> models.GeneratedField:
    """A full-text search column the database keeps up to date: the title weighs more (A) than
    the body (B) in the ranking."""
    return models.GeneratedField(
        expression=SearchVector(title, weight="A", config=SEARCH_CONFIG)
        + SearchVector(body, weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )


def _is_signed_in(user) -> bool:
    return user is not None and user.is_authenticated


def _ranked_search(queryset, text: str):
    """Rows whose search_vector matches the words (web-search syntax: "a phrase", -word, or),
    best first. `rank` is cast from PostgreSQL's float4 to float8 so that the value Python reads
    back is exact and can serve as a keyset cursor (a float4 printed as text and parsed as a
    Python float is not the same number, and the next page would skip or repeat rows)."""
    query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
    rank = Cast(SearchRank(models.F("search_vector"), query), models.FloatField())
    return queryset.filter(search_vector=query).annotate(rank=rank).order_by("-rank", "-id")


def _hidden_at() -> models.DateTimeField:
    """The moderation flag: set when Pinboard's moderators hide something. Hidden content is kept
    (nothing is deleted, it can be restored) but shown to nobody except its owner."""
    return models.DateTimeField(
        "hidden", null=True, blank=True, editable=False,
        help_text="Set when moderators hid it: only its owner still sees it.",
    )  # fmt: skip


def original_image_path(instance: "PinImage", filename: str) -> str:
    # Unguessable names: a file URL reveals nothing and cannot be enumerated.
    return f"pins/{secrets.token_urlsafe(18)}.webp"


def _rendition(width: int) -> ImageSpecField:
    return ImageSpecField(
        source="file",
        processors=[ResizeToFit(width=width, upscale=False)],
        format="WEBP",
        options={"quality": 82},
    )


class BoardMember(models.Model):
    """A collaborator on a group board: invited by the owner, then accepted (or declined)."""

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACCEPTED = "accepted", "Accepted"

    board = models.ForeignKey("Board", on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_memberships"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.INVITED)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "user"], name="pinboard_member_unique"),
        ]
        indexes = [models.Index(fields=["user", "status"], name="pinboard_member_user_idx")]

    def __str__(self) -> str:
        # Ids only, never related rows: see Like.__str__ (a board's delete page lists these).
        return f"Member {self.pk}: user {self.user_id} on board {self.board_id} ({self.status})"


def _accepted_member(user, board_ref="pk"):
    return BoardMember.objects.filter(
        board=OuterRef(board_ref), user=user, status=BoardMember.Status.ACCEPTED
    )


def _shown(user, *, owner: str = "owner") -> Q:
    """Not hidden by moderators, or the viewer's own (owners still see what was hidden, with a
    notice, so they know why it disappeared for everyone else)."""
    shown = Q(hidden_at__isnull=True)
    return shown | Q(**{owner: user}) if _is_signed_in(user) else shown


def _allowed(rule) -> Exists:
    """A flag for templates from a read rule (a queryset such as `editable_by(user)`): whether
    the row is among those the rule allows. The same rule the service enforces, so a button is
    shown exactly when its write would be accepted (DESIGN.md §3.1: templates ask, never decide)."""
    return Exists(rule.filter(pk=OuterRef("pk")))


class BoardQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Public boards, plus secret boards the person owns or collaborates on; a board hidden by
        moderators only for its owner."""
        if not _is_signed_in(user):
            return self.filter(is_secret=False, hidden_at__isnull=True)
        return self.filter(
            Q(is_secret=False) | Q(owner=user) | Exists(_accepted_member(user)), _shown(user)
        )

    def pinnable_by(self, user):
        """Boards the person may add pins to: their own and those they collaborate on (unless
        moderators hid it: then collaborators can no longer see it)."""
        if not _is_signed_in(user):
            return self.none()
        return self.filter(Q(owner=user) | (Exists(_accepted_member(user)) & Q(hidden_at=None)))

    def hidden(self):
        return self.filter(hidden_at__isnull=False)

    def editable_by(self, user):
        """Boards whose settings the person may change: only their own."""
        if not _is_signed_in(user):
            return self.none()
        return self.filter(owner=user)

    def with_permissions(self, user):
        """`can_edit` (editable_by) and `can_pin` (pinnable_by): what the board page offers."""
        return self.annotate(
            can_edit=_allowed(Board.objects.editable_by(user)),
            can_pin=_allowed(Board.objects.pinnable_by(user)),
        )

    def with_pin_count(self):
        """`pin_count`: the pins everyone sees (not those hidden by moderators)."""
        pins = Pin.objects.filter(board=OuterRef("pk"), hidden_at__isnull=True)
        pins = pins.order_by().values("board")
        return self.annotate(
            pin_count=Coalesce(Subquery(pins.annotate(n=Count("pk")).values("n")), 0)
        )

    def search(self, text: str):
        """Boards matching the words by name (weighted A) or description (B), best first.
        Not a read rule: combine with visible_to()."""
        return _ranked_search(self, text)


class Board(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards"
    )
    name = models.CharField(max_length=50)
    description = models.TextField(max_length=500, blank=True)
    is_secret = models.BooleanField(
        "secret",
        default=False,
        help_text="Only you and your collaborators can see a secret board and its pins.",
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through=BoardMember,
        through_fields=("board", "user"),
        related_name="collaborative_boards",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Moderation: set when Pinboard's moderators hide the board (and with it every pin on it).
    hidden_at = _hidden_at()
    search_vector = _search_vector(title="name", body="description")

    objects = BoardQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "owner", Lower("name"), name="pinboard_board_name_unique_per_owner"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="pinboard_board_owner_idx"),
            GinIndex(fields=["search_vector"], name="pinboard_board_search_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("board_detail", kwargs={"pk": self.pk})

    def may_be_followed_by(self, user) -> bool:
        """Anyone signed in may follow a board but its owner (services.board_follow refuses
        that, and blocks either way; a card's "Follow board" button asks this)."""
        return _is_signed_in(user) and self.owner_id != user.pk


def file_stem(field: str = "file") -> models.Func:
    """A file name without its extension ("pins/abc.webp" -> "pins/abc"): how imagekit names a
    rendition's folder (CACHE/images/<stem>/), so `prune_media` finds the image a rendition was
    made from by it. PinImage indexes this very expression."""
    return models.Func(
        models.F(field),
        models.Value(r"\.[^./]*$"),
        models.Value(""),
        function="regexp_replace",
        output_field=models.CharField(),
    )


class PinImage(models.Model):
    """One uploaded image, re-encoded; shared by a pin and every save of it."""

    file = models.ImageField(upload_to=original_image_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    dominant_color = models.CharField(max_length=7, default="#e9e9e9")
    created_at = models.DateTimeField(auto_now_add=True)

    # Renditions: generated once when the file is saved (IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY is
    # Optimistic), never checked for existence when a page renders.
    grid = _rendition(GRID_WIDTH)
    grid_2x = _rendition(2 * GRID_WIDTH)
    detail = _rendition(DETAIL_WIDTH)

    class Meta:
        # prune_media (pinboard/media_cleanup.py) looks stored files up by name in batches:
        # originals by `file`, renditions by the stem of `file`.
        indexes = [
            models.Index(fields=["file"], name="pinboard_pinimage_file_idx"),
            models.Index(file_stem(), name="pinboard_pinimage_stem_idx"),
        ]

    def __str__(self) -> str:
        return self.file.name

    def height_for_width(self, width: int) -> int:
        return max(1, round(self.height * width / self.width)) if self.width else width

    @property
    def grid_height(self) -> int:
        return self.height_for_width(GRID_WIDTH)

    # Building a rendition's URL means hashing its spec (django-imagekit): do it once per image
    # per render, not once per use in the template.
    @cached_property
    def grid_url(self) -> str:
        return self.grid.url

    @cached_property
    def grid_2x_url(self) -> str:
        return self.grid_2x.url

    @property
    def detail_width(self) -> int:
        return min(self.width, DETAIL_WIDTH)  # renditions are never upscaled

    @property
    def detail_height(self) -> int:
        return self.height_for_width(self.detail_width)

    @property
    def grid_span(self) -> int:
        """Rows of the masonry grid this image's card spans (see .pin-grid in app.css), computed
        here so the layout is right before any image loads, with or without JavaScript."""
        return -(-(self.grid_height + GRID_CARD_CAPTION + GRID_GAP) // GRID_ROW)


class PinQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A pin is exactly as visible as its board. Hidden by moderators (itself or its board),
        it is seen only by its owner (and, unless hidden itself, by the hidden board's owner)."""
        if not _is_signed_in(user):
            return self.filter(
                board__is_secret=False, board__hidden_at__isnull=True, hidden_at__isnull=True
            )
        return self.filter(
            Q(board__is_secret=False)
            | Q(board__owner=user)
            | Exists(_accepted_member(user, board_ref="board_id")),
            Q(hidden_at__isnull=True, board__hidden_at__isnull=True)
            | Q(owner=user)
            | Q(board__owner=user, hidden_at__isnull=True),
        )

    def hidden(self):
        """Hidden by moderators, on its own or with its board."""
        return self.filter(Q(hidden_at__isnull=False) | Q(board__hidden_at__isnull=False))

    def editable_by(self, user):
        """Pins the person may edit or delete: their own, while they can still see the board
        (someone removed from a secret board loses their pins on it along with the board)."""
        if not _is_signed_in(user):
            return self.none()
        return self.visible_to(user).filter(owner=user)

    def with_can_edit(self, user):
        """`can_edit`: the pin is among editable_by(user) (an "Edit" link, not "Report")."""
        return self.annotate(can_edit=_allowed(Pin.objects.editable_by(user)))

    def followed_by(self, user, *, followed: Q | None = None):
        """Pins the person sees because they follow the pinner or the board. Pass `followed`
        (from followed_filter) to reuse one lookup of the person's follows."""
        if not _is_signed_in(user):
            return self.none()
        return self.visible_to(user).filter(followed or followed_filter(user))

    def not_followed_by(self, user, *, followed: Q | None = None):
        if not _is_signed_in(user):
            return self.all()
        return self.exclude(followed or followed_filter(user))

    def newest_first(self):
        # Ids grow with creation time, so the primary key orders pins by age and doubles as the
        # keyset cursor (see pinboard/pagination.py).
        return self.order_by("-id")

    def for_cards(self, viewer):
        """What a pin card needs, in one query: image, owner, counts, the viewer's like,
        whether moderators hid it (`is_hidden`, for the owner's notice) and whether a block
        either way stands between the viewer and the pin's owner (`owner_blocked`: no "Save",
        which pinboard.services.pin_blocked_for would refuse).

        Cards never show a pin hidden on its own to anyone but its owner: the board page and
        "more from this board" list the pins of a board already checked with visible_to()."""
        is_hidden = models.ExpressionWrapper(
            Q(hidden_at__isnull=False) | Q(board__hidden_at__isnull=False),
            output_field=models.BooleanField(),
        )
        queryset = (
            self.filter(_shown(viewer))
            .select_related("image", "owner")
            .annotate(
                like_count=_count_of(Like),
                comment_count=_count_of(Comment, Q(hidden_at__isnull=True)),
                is_hidden=is_hidden,
            )
        )
        if _is_signed_in(viewer):
            likes = Like.objects.filter(pin=OuterRef("pk"), user=viewer)
            # A scalar subquery, not EXISTS: PostgreSQL would otherwise turn EXISTS into a join
            # over every like the viewer ever made (measured: 10.9 ms vs 0.3 ms per page).
            liked = Coalesce(Subquery(likes.values(flag=models.Value(True))[:1]), False)
            # Two EXISTS, one per direction, each a probe of accounts_block's unique
            # (blocker, blocked) index, evaluated only for the page's rows.
            owner_blocked = Exists(
                Block.objects.filter(blocker=viewer, blocked=OuterRef("owner_id"))
            ) | Exists(Block.objects.filter(blocker=OuterRef("owner_id"), blocked=viewer))
            return queryset.annotate(liked=liked, owner_blocked=owner_blocked)
        return queryset.annotate(liked=models.Value(False), owner_blocked=models.Value(False))

    def search(self, text: str):
        """Pins matching the words by title (weighted A) or description (B), best first, with
        their `rank`. Not a read rule: combine with visible_to()."""
        return _ranked_search(self, text)


def followed_filter(user) -> Q:
    """Pins by people or on boards the person follows. The followed ids are read first, in one
    small query: as literal lists they let PostgreSQL walk the (owner, -id) and (board, -id)
    indexes, where subqueries made it scan every pin when follows are few (21.8 ms vs 0.3 ms on
    100,000 pins)."""
    people = Follow.objects.filter(follower=user).values_list("followee_id", models.Value("u"))
    boards = BoardFollow.objects.filter(user=user).values_list("board_id", models.Value("b"))
    followed = list(people.union(boards, all=True))
    return Q(owner__in=[pk for pk, kind in followed if kind == "u"]) | Q(
        board__in=[pk for pk, kind in followed if kind == "b"]
    )


def _count_of(model, condition: Q | None = None):
    rows = model.objects.filter(condition or Q(), pin=OuterRef("pk")).order_by().values("pin")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


class Pin(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pins"
    )
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="pins")
    # PROTECT: an image is deleted by the service layer once no pin uses it any more.
    image = models.ForeignKey(PinImage, on_delete=models.PROTECT, related_name="pins")
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=500, blank=True)
    source_url = models.URLField("source link", max_length=2000, blank=True)
    # A save (repin) remembers where it came from; deleting the original keeps the save.
    saved_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="saves"
    )
    # A save of a pin that was on a secret board: it may only ever live on secret boards.
    from_secret_board = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = _hidden_at()
    search_vector = _search_vector(title="title", body="description")

    objects = PinQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["board", "-id"], name="pinboard_pin_board_idx"),
            # Pin counts and covers count only what everyone sees: index-only with this.
            models.Index(
                fields=["board", "id"],
                condition=Q(hidden_at__isnull=True),
                name="pinboard_pin_shown_idx",
            ),
            models.Index(fields=["owner", "-id"], name="pinboard_pin_owner_idx"),
            GinIndex(fields=["search_vector"], name="pinboard_pin_search_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("pin_detail", kwargs={"pk": self.pk})


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="likes")  # fmt: skip
    pin = models.ForeignKey(Pin, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pin", "user"], name="pinboard_like_unique"),
        ]

    def __str__(self) -> str:
        # Ids only: the admin's delete confirmation names every like of a pin or board, and
        # loading each like's person there was one query per like.
        return f"Like {self.pk} on pin {self.pin_id}"


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(pin__in=Pin.objects.visible_to(user)).shown_to(user)

    def shown_to(self, user):
        """Not hidden by moderators, or written by the viewer. For the comments of a pin already
        checked with Pin.objects.visible_to()."""
        return self.filter(_shown(user, owner="author"))

    def deletable_by(self, user):
        """Comments the person may delete: their own, on a pin they can still see."""
        if not _is_signed_in(user):
            return self.none()
        return self.visible_to(user).filter(author=user)

    def with_can_delete(self, user):
        """`can_delete`: the comment is among deletable_by(user) (a "Delete" button)."""
        return self.annotate(can_delete=_allowed(Comment.objects.deletable_by(user)))


class Comment(models.Model):
    pin = models.ForeignKey(Pin, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    text = models.TextField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = _hidden_at()

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["pin", "id"], name="pinboard_comment_pin_idx")]

    def __str__(self) -> str:
        # Ids and its own text only, never related rows: see Like.__str__.
        return f"Comment {self.pk} on pin {self.pin_id}: {self.text[:40]}"


class BoardFollow(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_follows"
    )
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "board"], name="pinboard_board_follow_unique"),
        ]

    def __str__(self) -> str:
        # Ids only, never related rows: see Like.__str__ (a board's delete page lists these).
        return f"Follow {self.pk} of board {self.board_id}"
