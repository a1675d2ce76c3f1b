"""The Send dialog: a pin, board or profile sent to 1-9 people, or into a recent conversation.

`/messages/send/?pin=<id>` (or `?board=<id>`, `?profile=<username>`) is one view for the dialog
(htmx, into #dialog-slot), the same form as a plain page without JavaScript, the people search
inside it (htmx, replacing #send-people) and the send itself. What is sent is read through its
visibility rule first, so a pin or board the sender can't see is a 404 like any other id.

Sends carry the form's idempotency key, so a double submit or a retried request is one message.
A send refused because someone can't see a secret pin or board keeps the people and the note, and
the board's owner is offered to invite them as collaborators (`send_invite`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from accounts.models import Follow, User
from accounts.ratelimit import check_rate
from messaging.forms import SendForm
from messaging.inbox import people_title
from messaging.models import MAX_TEXT_LENGTH, Conversation, Message, Participant
from messaging.services import (
    Attachment,
    SecretContentRefused,
    conversation_send,
    max_participants,
    message_send,
)
from pinboard.covers import attach_covers
from pinboard.models import Board, Pin
from pinboard.services import board_invite_those_who_cannot_see

TEMPLATE = "messaging/send.html"
RECENT_CONVERSATIONS = 6
PEOPLE_SHOWN = 12
SEARCH_MAX_LENGTH = 80
# The id of the people list: the live search asks for it (HX-Target) and replaces it.
PEOPLE_LIST_ID = "send-people"
KINDS = ("pin", "board", "profile")


@dataclass(frozen=True)
class Target:
    """What is being sent, already read through the sender's visibility rule."""

    kind: str  # "pin", "board" or "profile"
    obj: Pin | Board | User

    @property
    def param(self) -> str:
        return self.obj.username if self.kind == "profile" else str(self.obj.pk)

    @property
    def query(self) -> str:
        return urlencode({self.kind: self.param})

    @property
    def attachment(self) -> Attachment:
        return Attachment(**{self.kind: self.obj})

    @property
    def board(self) -> Board | None:
        """The board whose visibility decides who may see what is sent (none for a profile)."""
        if self.kind == "pin":
            return self.obj.board
        return self.obj if self.kind == "board" else None

    @property
    def heading(self) -> str:
        if self.kind == "pin":
            return f"Send “{self.obj.title}”"
        if self.kind == "board":
            return f"Send the board “{self.obj.name}”"
        return f"Send {self.obj.name}'s profile"


def _pk(value: str) -> int | None:
    """An id from the query string or a form, or None for anything that can't be one."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _target(request) -> Target:
    named = [kind for kind in KINDS if request.GET.get(kind)]
    if len(named) != 1:
        raise BadRequest("Name exactly one pin, board or profile to send.")
    kind = named[0]
    value = request.GET[kind]
    if kind == "profile":
        return Target(kind, get_object_or_404(User.objects.active(), username__iexact=value))
    pk = _pk(value)
    if pk is None:
        raise Http404
    if kind == "pin":
        pins = Pin.objects.visible_to(request.user).select_related("image", "owner", "board")
        return Target(kind, get_object_or_404(pins, pk=pk))
    boards = Board.objects.visible_to(request.user).select_related("owner").with_pin_count()
    board = get_object_or_404(boards, pk=pk)
    attach_covers([board])
    return Target(kind, board)


def _by_name():
    return Lower(Coalesce(NullIf("display_name", Value("")), "username"))


def _search_text(data) -> str:
    text = data.get("q", "").replace("\x00", "").strip().lstrip("@").strip()
    return text[:SEARCH_MAX_LENGTH]


def _people_by_ids(sender: User, raw_ids: list[str]) -> list[User]:
    """The people these ids name who can be picked (active, not the sender, no block either
    way), by name. Bounded: more than a few dozen ids never come from the dialog."""
    ids = {pk for pk in map(_pk, raw_ids) if pk is not None}
    if not ids:
        return []
    ids = sorted(ids)[: max_participants() + PEOPLE_SHOWN]
    people = User.objects.active().exclude(pk=sender.pk).not_blocked_with(sender)
    return list(people.filter(pk__in=ids).order_by(_by_name(), "pk"))


def _people(sender: User, q: str, *, exclude: list[int]) -> list[User]:
    """Matches for the search, people the sender follows first; with no search, just the
    people they follow. Never the sender, never inactive people, never those already picked,
    never anyone across a block either way (the send would be refused; the EXISTS rides along
    in the same query)."""
    followed = Exists(Follow.objects.filter(follower=sender, followee=OuterRef("pk")))
    people = User.objects.active().exclude(pk=sender.pk).exclude(pk__in=exclude)
    people = people.not_blocked_with(sender)
    people = people.annotate(followed=followed)
    people = people.search(q) if q else people.filter(followed=True)
    return list(people.order_by("-followed", _by_name(), "pk")[:PEOPLE_SHOWN])


def _recent_conversations(user: User) -> list[Conversation]:
    """The person's latest conversations (two queries), each with `people` (everyone else in
    it, by name), `avatars` and `title` as the inbox shows it."""
    others = Participant.objects.active().exclude(user=user).select_related("user")
    conversations = list(
        Conversation.objects.readable_by(user)
        .filter(last_message_at__isnull=False)
        # Not requests waiting for this person: those need accepting before a reply.
        .filter(participants__user=user, participants__is_request=False)
        .prefetch_related(Prefetch("participants", queryset=others, to_attr="other_members"))
        .order_by("-last_message_at", "-pk")[:RECENT_CONVERSATIONS]
    )
    for conversation in conversations:
        people = sorted((p.user for p in conversation.other_members), key=_name_key)
        conversation.people = people
        conversation.avatars = people[:2]
        conversation.title = conversation.name or people_title(people)
    return conversations


def _name_key(person: User) -> str:
    return person.name.lower()


def _context(request, target: Target, form: SendForm, *, picked, q="", **extra) -> dict:
    return {
        "target": target,
        "form": form,
        "note": form["note"].value() or "",
        "idempotency_key": form.key,
        "picked": picked,
        "q": q,
        "people": _people(request.user, q, exclude=[person.pk for person in picked]),
        "recents": _recent_conversations(request.user),
        "send_url": f"{reverse('message_send_dialog')}?{target.query}",
        "invite_url": f"{reverse('message_send_invite')}?{target.query}",
        "max_people": max_participants() - 1,
        "note_limit": MAX_TEXT_LENGTH,
        "note_limit_text": f"{MAX_TEXT_LENGTH:,}",
        "refusal": None,
        "notice": "",
        **extra,
    }


def _render_body(request, context: dict, *, status: int = 200):
    """After a POST: htmx swaps the dialog's body in place; without JavaScript, the whole page."""
    template = f"{TEMPLATE}#body" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def send_dialog(request):
    target = _target(request)
    if request.method == "POST":
        return _send(request, target)
    q = _search_text(request.GET)
    picked = _people_by_ids(request.user, request.GET.getlist("to"))
    if request.htmx.target == PEOPLE_LIST_ID:  # the live search: just the list
        people = _people(request.user, q, exclude=[person.pk for person in picked])
        context = {"picked": picked, "people": people, "q": q}
        return render(request, f"{TEMPLATE}#people", context)
    context = _context(request, target, SendForm(sender=request.user), picked=picked, q=q)
    return render(request, f"{TEMPLATE}#dialog" if request.htmx else TEMPLATE, context)


def _refresh(request, target: Target, **extra):
    """The dialog again as the person left it (people ticked, note, key, search), storing
    nothing: the no-JavaScript search, and the dialog after an invitation."""
    initial = {key: request.POST.get(key, "") for key in ("note", "idempotency_key")}
    form = SendForm(sender=request.user, initial=initial)
    picked = _people_by_ids(request.user, request.POST.getlist("to"))
    context = _context(request, target, form, picked=picked, q=_search_text(request.POST), **extra)
    return _render_body(request, context)


def _send(request, target: Target):
    if request.POST.get("search"):
        return _refresh(request, target)
    form = SendForm(request.POST, sender=request.user)
    refusal = None
    if form.is_valid():
        data = form.cleaned_data
        _check_send_rate(
            request.user,
            new_conversation=not data["conversation"],
            page=lambda: _refresh(request, target),
        )
        try:
            if data["conversation"]:
                conversation = get_object_or_404(
                    Conversation.objects.readable_by(request.user), pk=data["conversation"]
                )
                message = message_send(
                    sender=request.user,
                    conversation=conversation,
                    text=data["note"],
                    attachment=target.attachment,
                    idempotency_key=data["idempotency_key"],
                )
            else:
                message = conversation_send(
                    sender=request.user,
                    recipients=list(data["to"]),
                    text=data["note"],
                    attachment=target.attachment,
                    idempotency_key=data["idempotency_key"],
                )
        except SecretContentRefused as exc:
            refusal = exc
            form.add_error(None, exc)
        except ValidationError as exc:
            form.add_error("note" if exc.code in ("empty", "too_long") else None, exc)
        else:
            return _sent(request, target, message)
    picked = _people_by_ids(request.user, request.POST.getlist("to"))
    q = _search_text(request.POST)
    context = _context(request, target, form, picked=picked, q=q, refusal=refusal)
    return _render_body(request, context, status=200 if request.htmx else 400)


def _check_send_rate(
    sender: User, *, new_conversation: bool, page: Callable[[], HttpResponse]
) -> None:
    """Raise RateLimited before anything is stored. Sending to people (rather than into a
    chosen conversation) counts as starting a conversation even when it lands in an existing
    one with the same people: knowing that would mean doing the service's work twice, and the
    limit is far above what sending pins to friends takes."""
    if new_conversation:
        check_rate(action="conversation", key=sender.pk, page=page)
    check_rate(action="message", key=sender.pk, page=page)


def _sent(request, target: Target, message: Message):
    conversation = Conversation.objects.prefetch_related(
        Prefetch(
            "participants",
            queryset=Participant.objects.active().exclude(user=request.user).select_related("user"),
            to_attr="other_members",
        )
    ).get(pk=message.conversation_id)
    people = sorted((p.user for p in conversation.other_members), key=_name_key)
    text = f"Sent to {conversation.name or people_title(people)}."
    url = reverse("conversation", args=[conversation.pk])
    if not request.htmx:
        messages.success(request, text)
        return redirect(url)
    context = {"text": text, "url": url, "back_url": target.obj.get_absolute_url()}
    response = render(request, f"{TEMPLATE}#sent", context)
    trigger_client_event(
        response,
        "toast",
        {"message": text, "level": "success", "url": url, "linkText": "Open the conversation"},
    )
    # On the body (it is always there): the form that asked has just been swapped out.
    trigger_client_event(response, "closeSendDialog", {"target": "body"}, after="settle")
    return response


@require_POST
@login_required
def send_invite(request):
    """The board's owner invites the people who couldn't see a secret pin or board, then sees
    the dialog again with their people and note kept. The send is still refused until they
    accept: an invitation alone shows them nothing."""
    target = _target(request)
    board = target.board
    if board is None:
        raise Http404
    invited = board_invite_those_who_cannot_see(
        board=board,
        inviter=request.user,
        people=_people_by_ids(request.user, request.POST.getlist("invite")),
    )
    if invited:
        notice = (
            f"Invited {people_title(invited)} to “{board.name}”. They can see it once they "
            "accept — send it then."
        )
    else:
        notice = "Everyone you chose can already see it."
    return _refresh(request, target, notice=notice)
