"""Private conversations of 2 to 10 people around pins, boards and profiles.

Read rules live on the querysets: only active participants read or post (DESIGN.md §3.1). A pin,
board or profile in a message is a reference, re-checked for every viewer at every render
(messaging/cards.py), never a copy.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q

from accounts.models import Block, User
from pinboard.models import Board, Comment, Pin

MAX_TEXT_LENGTH = 2000
REQUEST_PENDING = "Accept this message request first."


def hidden_by_block(user, conversation=None):
    """True for a conversation in which everyone else still in it is someone `user` blocked or
    who blocked `user`: a one-to-one conversation between two people with a block either way is
    hidden from both. A group with anyone else in it stays usable (the blocker sees the blocked
    person's messages collapsed instead: `MessageQuerySet.with_block_flag`)."""
    if conversation is None:
        conversation = OuterRef("pk")
    others = Participant.objects.filter(conversation=conversation, left_at__isnull=True).exclude(
        user=user
    )
    blocked = Exists(
        Block.objects.filter(
            Q(blocker=user, blocked=OuterRef("user")) | Q(blocker=OuterRef("user"), blocked=user)
        )
    )
    # Most people have blocked no one: the first, uncorrelated EXISTS is computed once per
    # query (an InitPlan) and spares every row the per-conversation probes (measured on the
    # nav badge: 3.6 -> 2.3 ms). The probe that runs per row is an anti-join on the
    # conversation's own participants; "someone else is in it" is asked last, as it's rarely
    # needed.
    anyone_blocked = Exists(Block.objects.involving(user))
    return anyone_blocked & ~Exists(others.exclude(blocked)) & Exists(others)


class ConversationQuerySet(models.QuerySet):
    def readable_by(self, user, *, hidden_too: bool = False):
        """The one access rule for conversations (DESIGN.md §3.1): those `user` is in now (not
        left, not a declined request), except those a block hides (`hidden_by_block`). Every
        read of a conversation or its messages goes through it: pages and fragments, the inbox
        and its badge, search, the export, and the event stream and typing notices (whose SQL
        is compiled from it: messaging/live.py).

        `hidden_too` keeps the hidden ones, each flagged `hidden`, for the writes that must
        answer "You can't message …" rather than a 404 that explains nothing (the composer, the
        inbox's quick reply)."""
        if user is None or not user.is_authenticated:
            return self.none()
        # EXISTS rather than a join: no duplicate rows, so callers never need DISTINCT.
        member = Participant.objects.current().filter(conversation=OuterRef("pk"), user=user)
        mine = self.filter(Exists(member))
        if hidden_too:
            return mine.annotate(hidden=hidden_by_block(user))
        return mine.exclude(hidden_by_block(user))


class Conversation(models.Model):
    name = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Denormalised for the inbox: ordering by latest activity and the preview line, no scan of
    # messages per row.
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["-last_message_at"], name="messaging_conv_latest_idx")]

    def __str__(self) -> str:
        return self.name or f"Conversation {self.pk}"

    def is_nameable(self, people_in_it: int) -> bool:
        """Only groups get a name: three or more people in it now, or one already named (which
        can then be changed or removed)."""
        return people_in_it >= 3 or bool(self.name)


class NotifyLevel(models.TextChoices):
    """A person's choice per conversation (Campfire's "involvement")."""

    ALL = "all", "Everything"
    MENTIONS = "mentions", "Mentions only"
    NONE = "none", "Nothing"


class ParticipantQuerySet(models.QuerySet):
    def active(self):
        """Everyone the conversation lists (a declined request still counts: the people who
        wrote are never told)."""
        return self.filter(left_at__isnull=True)

    def current(self):
        """Those who still see the conversation: in it, and not having declined it."""
        return self.filter(left_at__isnull=True, declined_at__isnull=True)

    def participation(self, *, conversation, user, allow_request: bool = False) -> "Participant":
        """The person's row in a conversation they are in now, for a write (services): anyone
        else may not. A message request not yet accepted lets them only read it (and edit or
        delete what they wrote, were they in it before)."""
        participant = self.current().filter(conversation=conversation, user=user).first()
        if participant is None:
            raise PermissionDenied("Only the people in a conversation can do that.")
        if participant.is_request and not allow_request:
            raise PermissionDenied(REQUEST_PENDING)
        return participant


class Participant(models.Model):
    """A person in a conversation, with their read marker and their own settings for it."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)
    # What reaches the person from this conversation: the nav badge, email and push follow it.
    level = models.CharField(max_length=8, choices=NotifyLevel, default=NotifyLevel.ALL)
    # The read marker: the newest message id the person has seen, and how many arrived since.
    # unread_count is kept by the services (one UPDATE per send), so the nav badge is one SUM.
    last_read_message_id = models.BigIntegerField(default=0)
    unread_count = models.PositiveIntegerField(default=0)
    # How many of the unread messages mention the person: what a "mentions only" level counts.
    unread_mentions = models.PositiveIntegerField(default=0)
    # The newest message an unread-messages email already told them about (never twice).
    emailed_message_id = models.BigIntegerField(default=0)
    # A message request: someone outside the person's "who can message me" choice started the
    # conversation (or added them). It waits in the inbox's Requests tab until accepted.
    is_request = models.BooleanField(default=False)
    # Who started the conversation with this person or added them: whom a request's "Block"
    # blocks. NULL for the one who started it (and once that person's account is deleted).
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A declined request: gone for this person (no page, row, unread or live event), while the
    # others still see them listed, so the sender is never told it was declined.
    declined_at = models.DateTimeField(null=True, blank=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="messaging_participant_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["user"],
                condition=Q(left_at__isnull=True, unread_count__gt=0),
                name="messaging_part_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation_id}"


class MessageQuerySet(models.QuerySet):
    def readable_by(self, user):
        """Messages of the conversations `user` may read (ConversationQuerySet.readable_by)."""
        return self.filter(conversation__in=Conversation.objects.readable_by(user))

    def with_block_flag(self, viewer):
        """`from_blocked`: the viewer blocked the sender, so the message is shown collapsed to
        them; `quote_from_blocked`: the same for the message it replies to, whose quote is
        collapsed too. Annotations on the same query, so they cost no extra query per page."""
        if viewer is None or not viewer.is_authenticated:
            no = models.Value(False)
            return self.annotate(from_blocked=no, quote_from_blocked=no)
        blocked = Block.objects.filter(blocker=viewer, blocked=OuterRef("sender"))
        # Correlated on reply_to_id rather than joining the quoted message into the page's
        # query: most messages quote nothing, and those cost one primary-key probe.
        quoted = Message.objects.filter(
            pk=OuterRef("reply_to_id"), sender__blocks_received__blocker=viewer
        )
        return self.annotate(from_blocked=Exists(blocked), quote_from_blocked=Exists(quoted))

    def with_card_data(self):
        """Everything a message shows besides its card: its sender and the message it quotes
        (with that one's sender), ready for messaging/cards.py, which reads the cards of both
        (pins, boards, profiles) for the viewer in one query per kind.

        The quoted messages come as a prefetch rather than a join: PostgreSQL spent 20-25 ms
        *planning* a join of every card's tables for under 1 ms of work, on every conversation
        page (measured on a 100,000-message thread).
        """
        return self.select_related("sender").prefetch_related(
            models.Prefetch("reply_to", queryset=Message.objects.select_related("sender"))
        )


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        PIN = "pin", "Pin"
        BOARD = "board", "Board"
        PROFILE = "profile", "Profile"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # A deleted user's messages stay, signed "deleted user".
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="messages"
    )
    text = models.TextField(max_length=MAX_TEXT_LENGTH, blank=True)
    # What was sent is remembered by `kind`; the reference goes NULL when its target is deleted,
    # which leaves a "no longer available" card instead of a hole.
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.TEXT)
    pin = models.ForeignKey(Pin, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    board = models.ForeignKey(
        Board, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    profile = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    idempotency_key = models.UUIDField(null=True, blank=True)
    # The people an @mention in the text named, among those in the conversation when it was sent.
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(pin__isnull=True, board__isnull=True)
                    | Q(pin__isnull=True, profile__isnull=True)
                    | Q(board__isnull=True, profile__isnull=True)
                ),
                name="messaging_message_one_attachment",
            ),
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"], name="messaging_message_idempotent"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "-id"], name="messaging_msg_conv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} message {self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def has_card(self) -> bool:
        return self.kind != self.Kind.TEXT

    def is_sent_by(self, user) -> bool:
        """Whether `user` wrote this message (their own messages look different on the page)."""
        return user is not None and user.is_authenticated and self.sender_id == user.pk

    def deletable_by(self, user) -> bool:
        """Who may delete a message: its sender (services.message_delete enforces it, also
        checking they are still in the conversation; the page offers "Delete" by the same
        answer, the `can_delete` flag)."""
        return self.is_sent_by(user)


# --- What a send carries: value types shared by the services and the forms ----------------


def max_participants() -> int:
    """How many people a conversation may hold (DESIGN.md §3.4: 2 to 10)."""
    return getattr(settings, "MESSAGING_MAX_PARTICIPANTS", 10)


class SecretContentRefused(ValidationError):
    """Someone in the conversation could not see the secret pin or board being sent (raised by
    messaging.services.message_send; the composer form shows it next to the attachment)."""

    def __init__(self, *, people: list[User], board: Board, is_board: bool, can_invite: bool):
        self.people = people
        self.board = board
        self.can_invite = can_invite
        names = ", ".join(person.name for person in people)
        what = "board" if is_board else "pin"
        super().__init__(
            f"{names} can't see this secret {what}, so it was not sent.", code="secret_content"
        )


@dataclass(frozen=True)
class Attachment:
    """What a message carries besides its text: at most one pin, board or profile."""

    pin: Pin | None = None
    board: Board | None = None
    profile: User | None = None

    @property
    def kind(self) -> str:
        if self.pin is not None:
            return Message.Kind.PIN
        if self.board is not None:
            return Message.Kind.BOARD
        if self.profile is not None:
            return Message.Kind.PROFILE
        return Message.Kind.TEXT


NO_ATTACHMENT = Attachment()


class Event(models.Model):
    """Something a person's open tabs should learn about (a new, edited or deleted message; a
    conversation read elsewhere or changed). Kept in the database so a tab that reconnects can
    catch up on exactly what it missed (the SSE `Last-Event-ID`); old rows are pruned."""

    class Kind(models.TextChoices):
        MESSAGE_NEW = "message.new", "New message"
        MESSAGE_EDITED = "message.edited", "Message edited"
        MESSAGE_DELETED = "message.deleted", "Message deleted"
        CONVERSATION_READ = "conversation.read", "Conversation read"
        CONVERSATION_CHANGED = "conversation.changed", "Conversation changed"
        NOTIFICATION = "notification", "Notification"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_events"
    )
    kind = models.CharField(max_length=24, choices=Kind)
    # Empty for a notification, which the bell shows whatever its subject.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "id"], name="messaging_event_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class ReportQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=Report.Status.OPEN)


class Report(models.Model):
    """Someone flagging a pin, a comment, a profile or a message for the staff's review queue.

    It lives in messaging because that is the one app allowed to know every reportable thing
    (imports run messaging -> pinboard -> accounts). A message's text becomes visible to staff
    only once someone has reported that message.
    """

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or misleading"
        HARASSMENT = "harassment", "Harassment or bullying"
        NUDITY = "nudity", "Nudity or sexual content"
        HATE = "hate", "Hateful speech or symbols"
        VIOLENCE = "violence", "Violence or self-harm"
        INTELLECTUAL_PROPERTY = "ip", "Intellectual property violation"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        ACTIONED = "actioned", "Action taken"

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=Reason)
    details = models.TextField(max_length=1000, blank=True)
    # Exactly one target when made; a deleted target leaves the report, pointing at nothing.
    pin = models.ForeignKey(Pin, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    comment = models.ForeignKey(
        Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    profile = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_about",
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(pin__isnull=True, comment__isnull=True, profile__isnull=True)
                    | Q(pin__isnull=True, comment__isnull=True, message__isnull=True)
                    | Q(pin__isnull=True, profile__isnull=True, message__isnull=True)
                    | Q(comment__isnull=True, profile__isnull=True, message__isnull=True)
                ),
                name="messaging_report_one_target",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="messaging_report_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk} ({self.get_reason_display()})"


# --- Notifications (messaging/notifications.py decides who gets what) --------------------------


class NotificationKind(models.TextChoices):
    FOLLOW = "follow", "New followers"
    PIN_SAVED = "pin_saved", "Saves of your pins"
    PIN_LIKED = "pin_liked", "Likes on your pins"
    PIN_COMMENTED = "pin_commented", "Comments on your pins"
    BOARD_INVITED = "board_invited", "Invitations to boards"
    BOARD_ACCEPTED = "board_accepted", "Accepted board invitations"
    CONVERSATION_ADDED = "conversation_added", "Being added to a conversation"
    MESSAGE_REQUEST = "message_request", "Message requests"
    MENTION = "mention", "Mentions in messages"
    # Messages themselves show in the inbox, not the bell: this kind is for email and push.
    MESSAGE = "message", "New messages"
    EXPORT_READY = "export_ready", "Your data download is ready"


class NotificationQuerySet(models.QuerySet):
    def for_recipient(self, user):
        """The one read rule: a person sees only their own notifications (their content is
        re-checked for them when shown: messaging/notifications.py)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One line in a person's bell: an event, or a group of the same kind about the same thing
    ("Ada and 4 others saved Blue sofa"). New actors join the unread group; once read, the next
    event starts a new one."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind)
    # What it is about (at most one; none for a follow). A deleted target deletes the line.
    pin = models.ForeignKey(Pin, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    board = models.ForeignKey(
        Board, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor_count = models.PositiveIntegerField(default=0)
    last_actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A file the person asked for (the data download), when the kind has one.
    file = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            # One unread group per subject: concurrent events upsert into it.
            models.UniqueConstraint(
                fields=["recipient", "kind", "pin", "board", "conversation"],
                condition=Q(read_at__isnull=True),
                nulls_distinct=False,
                name="messaging_notification_one_unread_group",
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-updated_at", "-id"], name="messaging_notif_list_idx"
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="messaging_notif_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class NotificationActor(models.Model):
    """Who did it, once per person per group (a like, unlike and like again counts once)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="actors")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "actor"], name="messaging_notification_actor_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} in {self.notification_id}"


class NotificationPreference(models.Model):
    """A person's choice for one kind; no row means the defaults (notifications.DEFAULTS)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)
    push = models.BooleanField(default=False)
    # New messages only: one email a day listing what is still unread, instead of one per
    # conversation a couple of minutes after it arrives.
    daily_digest = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="messaging_notif_pref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class Delivery(models.Model):
    """A channel's record that it sent something, written in the same transaction as the
    decision to send: a retried task finds it and never sends twice."""

    channel = models.CharField(max_length=8)  # "email", "push"
    key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="messaging_delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.key}"


class Presence(models.Model):
    """When a person last had a live event stream open. Written by the stream servers in one
    statement per flush for everyone connected, read by email and push: someone connected in
    the last minute already saw it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"


class PushSubscription(models.Model):
    """A browser that asked for Web Push (RFC 8030): where to send, and the keys to encrypt for
    it (RFC 8291)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    # "Chrome on Linux": what the settings page lists, from the browser that subscribed.
    device = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.device or 'browser'} of {self.user_id}"
