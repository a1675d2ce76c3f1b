"""Email, the careful way (DESIGN.md §5b): only what is still unread, late enough, never twice.

Unread messages. A conversation's new messages are emailed to a person once the oldest of them
has waited MESSAGE_EMAIL_DELAY_SECONDS, if they are still unread (newer than the read marker),
not emailed yet (newer than `Participant.emailed_message_id`), and arrived after the person last
had the site open (`Presence.seen_at`): one email per conversation, batching what arrived.
`email_unread(participant_id=, now=)` is the one check; two things call it:

- the channel `message_arrived`, when the task backend can defer (the worker of `make run` and
  production): one check per recipient, run after the delay. Several messages in a row schedule
  several checks; the first that is due sends the batch, the later ones find nothing new;
- the sweep `send_due_message_emails(now=)` (`manage.py send_message_emails`, every minute from
  cron or a systemd timer): everyone due, found in one query. It is what sends when the backend
  cannot defer (TASKS_IMMEDIATE sites; tests call it with an explicit `now`), and it catches up
  on checks lost while the worker was down.

Never twice: a check claims its batch with a conditional UPDATE of the markers it read
(`emailed_message_id` and `last_read_message_id` unchanged since), commits, and only then
sends; a failed send gives the claim back. A duplicate or retried check finds the markers moved
and sends nothing. The claim is committed before the mail server is spoken to on purpose:
holding the participant row through an SMTP conversation would stall every send in that
conversation (a send updates each participant's unread count). The price is that a worker
killed between claim and send loses that one email, rather than sending it twice.

Messages older than MAX_AGE are never emailed about: turning email on, or a first deploy, does
not mail people about last year's unread messages.

Daily digest: people who chose it for new messages get nothing per conversation; instead
`send_digests(now=)` (`manage.py send_digests`, daily) lists their conversations with unread
messages not emailed yet in one email, at most one a day (a Delivery row per person and day).

Other kinds (the bell's): `notification_email(notification)`, a one-line email when the
person's email preference for that kind is on, once per notification and actor count.

Every email carries a one-click unsubscribe (RFC 8058) for its kind: a signed token of (user
id, kind), handled by messaging/views/unsubscribe.py.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Block, User
from messaging import cards
from messaging.models import (
    Conversation,
    Delivery,
    Message,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotifyLevel,
    Participant,
    Presence,
)
from messaging.notifications import channels_for
from pinboard.models import Board, BoardMember, Pin

MAX_AGE = timedelta(days=1)
UNSUBSCRIBE_SALT = "messaging.emails.unsubscribe"
# A link in an old email keeps working for this long; past it the page says so (and the
# notification settings page still works).
UNSUBSCRIBE_MAX_AGE = timedelta(days=180)


def delay() -> timedelta:
    return timedelta(seconds=settings.MESSAGE_EMAIL_DELAY_SECONDS)


# --- Unsubscribing ---------------------------------------------------------------------------


def unsubscribe_token(user_id: int, kind: str) -> str:
    """Unforgeable (signed with SECRET_KEY) and dated, so it can expire."""
    return signing.dumps([user_id, kind], salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """The (user id, kind) a token was made for; signing.BadSignature (SignatureExpired
    included) when it was tampered with, is too old, or names no kind we have."""
    value = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or value[1] not in NotificationKind.values
    ):
        raise signing.BadSignature("Not an unsubscribe token")
    return value[0], value[1]


def unsubscribe_urls(user_id: int, kind: str) -> tuple[str, str]:
    """The page's link (for the footer: a confirmation with a button) and the one-click
    endpoint (for the List-Unsubscribe header: mail clients POST to it)."""
    token = unsubscribe_token(user_id, kind)
    return (
        absolute(reverse("notifications_unsubscribe", kwargs={"token": token})),
        absolute(reverse("notifications_unsubscribe_one_click", kwargs={"token": token})),
    )


def email_off(*, user: User, kind: str) -> None:
    """Turn one kind's email off for a person, keeping their other channels as they were (a new
    preference row starts from what they had: the defaults). For new messages the daily digest
    is email too, so it goes off with it."""
    current = channels_for([user.pk], kind)[user.pk]
    NotificationPreference.objects.update_or_create(
        user=user,
        kind=kind,
        defaults={"email": False, "daily_digest": False},
        create_defaults={
            "in_app": current.in_app,
            "push": current.push,
            "email": False,
            "daily_digest": False,
        },
    )


# --- Sending ---------------------------------------------------------------------------------


def absolute(url: str) -> str:
    """Emails are read away from the site: every link and image needs its host. A storage that
    already gives absolute URLs (object storage) is left alone."""
    return url if "://" in url else settings.SITE_URL + url


def _send(*, user: User, kind: str, subject: str, template: str, context: dict) -> None:
    """One email in plain text and HTML from `templates/messaging/email/<template>.txt|html`,
    with RFC 8058's one-click unsubscribe for `kind`. Sent through the default mailer."""
    page, one_click = unsubscribe_urls(user.pk, kind)
    context = {
        **context,
        "user": user,
        "unsubscribe_url": page,
        "kind_label": NotificationKind(kind).label.lower(),
        "settings_url": absolute("/settings/notifications/"),
    }
    email = EmailMultiAlternatives(
        # Names people chose go into the subject: never let one break the header.
        subject=" ".join(subject.split()),
        body=render_to_string(f"messaging/email/{template}.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{one_click}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    html = render_to_string(f"messaging/email/{template}.html", context)
    email.attach_alternative(html, "text/html")
    email.send()


def _names(names: list[str]) -> str:
    """ "Ada", "Ada and Bram", "Ada and 2 others"."""
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]} and {len(names) - 1} others"


# --- Unread messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    every_message: bool  # email for each conversation's new messages
    mentions: bool  # email when mentioned
    digest: bool  # one email a day instead


def _choices(user_ids: list[int]) -> dict[int, _Choice]:
    """Each person's email choice for messages. Two queries."""
    messages = channels_for(user_ids, NotificationKind.MESSAGE)
    mentions = channels_for(user_ids, NotificationKind.MENTION)
    return {
        pk: _Choice(
            every_message=messages[pk].email and not messages[pk].daily_digest,
            mentions=mentions[pk].email and not messages[pk].daily_digest,
            digest=messages[pk].daily_digest,
        )
        for pk in user_ids
    }


def message_arrived(message: Message, recipients) -> None:
    """The email channel of tasks.deliver_message: schedule a check of each recipient's unread
    messages after the delay. A backend that cannot defer a task (ImmediateBackend: tests,
    TASKS_IMMEDIATE sites) schedules nothing: the sweep (send_due_message_emails) sends then."""
    from messaging import tasks  # tasks imports this module

    check = tasks.email_unread_messages
    if not check.get_backend().supports_defer:
        return
    choices = _choices([r.user_id for r in recipients])
    run_after = message.created_at + delay()
    for recipient in recipients:
        choice = choices[recipient.user_id]
        if choice.every_message or (choice.mentions and recipient.mentioned):
            check.using(run_after=run_after).enqueue(recipient.participant_id)


def _blocked_either_way(user_id) -> Exists:
    return Exists(
        Block.objects.filter(
            Q(blocker_id=user_id, blocked_id=OuterRef("sender_id"))
            | Q(blocker_id=OuterRef("sender_id"), blocked_id=user_id)
        )
    )


def email_unread(*, participant_id: int, now: datetime) -> bool:
    """Email one person the messages that arrived in one conversation, if due (see the module's
    docstring). True when an email went out."""
    participant = (
        Participant.objects.current()
        .filter(pk=participant_id, is_request=False)
        .select_related("user", "conversation")
        .first()
    )
    if participant is None:
        return False
    user = participant.user
    read_to, emailed_to = participant.last_read_message_id, participant.emailed_message_id
    mentioned = Message.mentions.through.objects.filter(message_id=OuterRef("pk"), user_id=user.pk)
    messages = list(
        Message.objects.filter(
            conversation_id=participant.conversation_id,
            pk__gt=max(read_to, emailed_to),
            deleted_at__isnull=True,
            created_at__gte=now - MAX_AGE,
            created_at__lte=now,
        )
        .exclude(sender_id=user.pk)
        .select_related("sender")
        .annotate(blocked=_blocked_either_way(user.pk), mentioned=Exists(mentioned))
        .order_by("pk")
    )
    if not messages:
        return False
    choice = _choices([user.pk])[user.pk]
    if choice.digest:
        return False  # the daily digest tells them
    seen_at = Presence.objects.filter(user_id=user.pk).values_list("seen_at", flat=True).first()
    # Arrived after the person last had the site open, from someone they have no block with.
    unseen = [m for m in messages if not m.blocked and (seen_at is None or m.created_at > seen_at)]
    if participant.level == NotifyLevel.ALL and choice.every_message:
        wanted, kind = unseen, NotificationKind.MESSAGE
    elif participant.level != NotifyLevel.NONE and choice.mentions:
        wanted, kind = [m for m in unseen if m.mentioned], NotificationKind.MENTION
    else:
        wanted, kind = [], NotificationKind.MESSAGE
    if wanted and wanted[0].created_at > now - delay():
        return False  # not due yet: a later check (or sweep) sends the whole batch
    if not (user.is_active and user.email):
        wanted = []
    # Claim: what was read (or seen, or not wanted) is dealt with too, so it is never
    # looked at again.
    claimed = Participant.objects.filter(
        pk=participant.pk, emailed_message_id=emailed_to, last_read_message_id=read_to
    ).update(emailed_message_id=messages[-1].pk)
    if not claimed or not wanted:
        return False  # someone else's check moved first, the person read meanwhile, or nothing
    try:
        _send_batch(participant=participant, messages=wanted, kind=kind)
    except Exception:
        # Give the claim back, so a later check or the sweep tries again.
        Participant.objects.filter(pk=participant.pk, emailed_message_id=messages[-1].pk).update(
            emailed_message_id=emailed_to
        )
        raise
    return True


def _titles(conversations: list[Conversation], user: User) -> dict[int, str]:
    """What each conversation is called for this person: its name, else the others in it.
    One query for all the unnamed ones (none if all are named)."""
    unnamed = [c.pk for c in conversations if not c.name]
    people: dict[int, list[str]] = {}
    if unnamed:
        others = (
            Participant.objects.current()
            .filter(conversation_id__in=unnamed)
            .exclude(user=user)
            .select_related("user")
            .order_by("pk")
        )
        for other in others:
            people.setdefault(other.conversation_id, []).append(other.user.name)
    return {c.pk: c.name or _names(people.get(c.pk, [])) for c in conversations}


def _send_batch(*, participant: Participant, messages: list[Message], kind: str) -> None:
    user, conversation = participant.user, participant.conversation
    # Cards are checked for this reader, as on the page: a secret pin they can't see reads
    # "private", with no title or image.
    cards.prepare_cards(messages, user, covers=True)
    senders = list(dict.fromkeys(m.sender.name if m.sender else "Deleted user" for m in messages))
    count = "a message" if len(messages) == 1 else f"{len(messages)} messages"
    where = f" in {conversation.name}" if conversation.name else ""
    subject = f"{_names(senders)} sent you {count}{where}"
    if kind == NotificationKind.MENTION:
        subject = f"{_names(senders)} mentioned you{where}"
    for message in messages:
        message.email_card = _card(message)
    _send(
        user=user,
        kind=kind,
        subject=subject,
        template="unread_messages",
        context={
            "subject": subject,
            "title": _titles([conversation], user)[conversation.pk],
            "messages": messages,
            "conversation_url": absolute(reverse("conversation", kwargs={"pk": conversation.pk})),
        },
    )


def _card(message: Message) -> dict | None:
    """What an email shows of a message's card: absolute links and thumbnails, and only for a
    card the reader may see (`card_state` from messaging/cards.py)."""
    if message.card_state is None:
        return None
    card = {"kind": message.kind, "state": message.card_state}
    if message.card_state != cards.VISIBLE:
        return card
    if message.kind == Message.Kind.PIN:
        pin = message.pin
        card |= {
            "title": pin.title,
            "url": absolute(pin.get_absolute_url()),
            "image": absolute(pin.image.grid_url),
        }
    elif message.kind == Message.Kind.BOARD:
        board = message.visible_board
        covers = getattr(board, "cover_pins", None) or []
        card |= {
            "title": board.name,
            "url": absolute(board.get_absolute_url()),
            "image": absolute(covers[0].image.grid_url) if covers else "",
        }
    else:
        person = message.profile
        card |= {
            "title": person.name,
            "url": absolute(reverse("profile", kwargs={"username": person.username})),
            "image": "",
        }
    return card


def due_participants(*, now: datetime):
    """Everyone with a message waiting to be looked at by the email channel: a current
    participant (not a request) whose conversation has a message from someone else, newer than
    both their markers, older than the delay and younger than MAX_AGE. People on the daily
    digest are left to it. One query."""
    waiting = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        pk__gt=Greatest(OuterRef("emailed_message_id"), OuterRef("last_read_message_id")),
        deleted_at__isnull=True,
        created_at__gte=now - MAX_AGE,
        created_at__lte=now - delay(),
    ).exclude(sender_id=OuterRef("user_id"))
    digest = NotificationPreference.objects.filter(
        user_id=OuterRef("user_id"), kind=NotificationKind.MESSAGE, daily_digest=True
    )
    return (
        Participant.objects.current()
        .filter(is_request=False, unread_count__gt=0)
        .exclude(level=NotifyLevel.NONE)
        .filter(Exists(waiting))
        .exclude(Exists(digest))
    )


def send_due_message_emails(*, now: datetime) -> int:
    """The sweep: check everyone due. Returns how many emails went out."""
    sent = 0
    # A list, not a cursor: each check runs its own queries (and commits) while we loop.
    for participant_id in list(due_participants(now=now).values_list("pk", flat=True)):
        sent += email_unread(participant_id=participant_id, now=now)
    return sent


# --- The daily digest ------------------------------------------------------------------------


def send_digests(*, now: datetime) -> int:
    """One email a day to each person on the digest, listing their conversations with unread
    messages not emailed yet. Returns how many went out."""
    user_ids = NotificationPreference.objects.filter(
        kind=NotificationKind.MESSAGE, daily_digest=True, user__is_active=True
    ).values_list("user_id", flat=True)
    unread = (
        Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            pk__gt=Greatest(OuterRef("emailed_message_id"), OuterRef("last_read_message_id")),
            deleted_at__isnull=True,
        )
        .exclude(sender_id=OuterRef("user_id"))
        .exclude(_blocked_either_way(OuterRef(OuterRef("user_id"))))
        .filter(
            Q(Exists(Participant.objects.filter(pk=OuterRef(OuterRef("pk")), level="all")))
            | Exists(
                Message.mentions.through.objects.filter(
                    message_id=OuterRef("pk"), user_id=OuterRef(OuterRef("user_id"))
                )
            )
        )
        .order_by()
        .values("conversation_id")
    )
    rows = (
        Participant.objects.current()
        .filter(is_request=False, user_id__in=user_ids)
        .exclude(level=NotifyLevel.NONE)
        .annotate(
            unread_messages=Subquery(unread.annotate(n=Count("pk")).values("n")),
            newest=Subquery(unread.annotate(top=Max("pk")).values("top")),
        )
        .filter(unread_messages__gt=0)
        .select_related("user", "conversation")
        .order_by("user_id", "-newest")
    )
    by_user: dict[int, list[Participant]] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row)
    return sum(_send_digest(rows, now=now) for rows in by_user.values())


def _send_digest(rows: list[Participant], *, now: datetime) -> bool:
    user = rows[0].user
    if not user.email:
        return False
    key = f"digest:{user.pk}:{now.date().isoformat()}"
    with transaction.atomic():
        try:
            with transaction.atomic():
                Delivery.objects.create(channel="email", key=key)
        except IntegrityError:
            return False  # today's went out already
        claimed = [
            row
            for row in rows
            if Participant.objects.filter(
                pk=row.pk,
                emailed_message_id=row.emailed_message_id,
                last_read_message_id=row.last_read_message_id,
            ).update(emailed_message_id=Greatest(F("emailed_message_id"), row.newest))
        ]
        if not claimed:
            transaction.set_rollback(True)
            return False
    titles = _titles([row.conversation for row in claimed], user)
    for row in claimed:
        row.title = titles[row.conversation_id]
        row.url = absolute(reverse("conversation", kwargs={"pk": row.conversation_id}))
    total = sum(row.unread_messages for row in claimed)
    subject = (
        f"You have {total} unread message{'s' if total != 1 else ''} in "
        f"{len(claimed)} conversation{'s' if len(claimed) != 1 else ''}"
    )
    try:
        _send(
            user=user,
            kind=NotificationKind.MESSAGE,
            subject=subject,
            template="digest",
            context={"subject": subject, "conversations": claimed},
        )
    except Exception:
        with transaction.atomic():
            Delivery.objects.filter(channel="email", key=key).delete()
            for row in claimed:
                Participant.objects.filter(pk=row.pk, emailed_message_id=row.newest).update(
                    emailed_message_id=row.emailed_message_id
                )
        raise
    return True


# --- The bell's kinds ------------------------------------------------------------------------


def notification_email(notification: Notification) -> bool:
    """A short email for one notification, when the recipient's email preference for its kind
    is on; what it names is re-checked for them now (a pin or board they can't see is "a pin",
    "a board"). Once per notification and actor count (a Delivery row), so a retried task, or
    the same group told again with no one new, sends nothing. True when an email went out."""
    notification = (
        Notification.objects.select_related(
            "recipient", "last_actor", "pin", "board", "conversation"
        )
        .filter(pk=notification.pk, read_at__isnull=True)
        .first()
    )
    if notification is None:
        return False  # gone, or already read in the bell
    user = notification.recipient
    if not (user.is_active and user.email):
        return False
    if not channels_for([user.pk], notification.kind)[user.pk].email:
        return False
    sentence, url = _sentence(notification)
    key = f"notification:{notification.pk}:{notification.actor_count}"
    try:
        with transaction.atomic():
            Delivery.objects.create(channel="email", key=key)
    except IntegrityError:
        return False
    try:
        _send(
            user=user,
            kind=notification.kind,
            subject=sentence,
            template="notification",
            context={"subject": sentence, "url": absolute(url)},
        )
    except Exception:
        Delivery.objects.filter(channel="email", key=key).delete()
        raise
    return True


def _sentence(n: Notification) -> tuple[str, str]:
    """What happened, in one line, naming only what the recipient may see; and where to look."""
    user = n.recipient
    actor = n.last_actor.name if n.last_actor else "Someone"
    if n.actor_count > 1:
        others = n.actor_count - 1
        actor = f"{actor} and {others} other{'s' if others != 1 else ''}"
    pin = board = conversation = None
    if n.pin_id and Pin.objects.visible_to(user).filter(pk=n.pin_id).exists():
        pin = n.pin
    if n.board_id and (
        Board.objects.visible_to(user).filter(pk=n.board_id).exists()
        # An invitation names its board to the person invited, as the invitation page does.
        or BoardMember.objects.filter(board_id=n.board_id, user=user).exists()
    ):
        board = n.board
    if (
        n.conversation_id
        and Conversation.objects.readable_by(user).filter(pk=n.conversation_id).exists()
    ):
        conversation = n.conversation
    pin_words = f"your pin {pin.title}" if pin else "your pin"
    pin_url = pin.get_absolute_url() if pin else "/"
    board_url = board.get_absolute_url() if board else "/"
    board_words = f"the board {board.name}" if board else "a board"
    conversation_url = (
        reverse("conversation", kwargs={"pk": conversation.pk}) if conversation else "/messages/"
    )
    in_conversation = f" in {conversation.name}" if conversation and conversation.name else ""
    kind = NotificationKind
    lines = {
        kind.FOLLOW: (f"{actor} followed you", "/"),
        kind.PIN_SAVED: (f"{actor} saved {pin_words}", pin_url),
        kind.PIN_LIKED: (f"{actor} liked {pin_words}", pin_url),
        kind.PIN_COMMENTED: (f"{actor} commented on {pin_words}", pin_url),
        kind.BOARD_INVITED: (f"{actor} invited you to {board_words}", board_url),
        kind.BOARD_ACCEPTED: (f"{actor} joined {board_words}", board_url),
        kind.CONVERSATION_ADDED: (
            f"{actor} added you to a conversation{in_conversation}",
            conversation_url,
        ),
        kind.MESSAGE_REQUEST: (f"{actor} sent you a message request", "/messages/requests/"),
        kind.MENTION: (f"{actor} mentioned you{in_conversation}", conversation_url),
        kind.MESSAGE: (f"{actor} sent you a message{in_conversation}", conversation_url),
        kind.EXPORT_READY: ("Your data download is ready", "/settings/data/"),
    }
    if n.kind == kind.FOLLOW and n.last_actor:
        return lines[kind.FOLLOW][0], reverse("profile", kwargs={"username": n.last_actor.username})
    return lines[n.kind]
