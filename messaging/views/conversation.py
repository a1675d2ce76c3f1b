"""A conversation (/messages/<id>/): its messages and cards, the composer, a reply box under
every card, editing and deleting your own messages, and managing the people in it.

Everything is fetched through `Conversation.objects.readable_by`: former participants and
strangers get 404, like a conversation that does not exist (DESIGN.md §3.1). One view serves a
page and its htmx fragment (§4); every form works without JavaScript.
"""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from accounts.models import Block
from accounts.ratelimit import check_rate
from messaging import services
from messaging.display import prepare_messages
from messaging.forms import AddPeopleForm, MessageEditForm, MessageForm, RenameConversationForm
from messaging.models import Conversation, Message, NotifyLevel, Participant
from pinboard.pagination import parse_cursor

PAGE_SIZE = 50
EDIT_WINDOW_EXPIRED = "Messages can be edited for 15 minutes after sending."


# --- Reads ---------------------------------------------------------------------------------


def _conversation_or_404(request, pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.readable_by(request.user), pk=pk)


def _member_conversation_or_404(request, pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.readable_by(request.user, hidden_too=True), pk=pk)


def _own_message_or_404(request, pk: int, message_pk: int) -> Message:
    """One of your messages in a conversation you are in now; anything else is 404."""
    mine = Message.objects.readable_by(request.user).filter(conversation_id=pk, sender=request.user)
    return get_object_or_404(mine.select_related("conversation"), pk=message_pk)


def _prepare(rows, viewer) -> list[Message]:
    """prepare_messages (cards, `can_edit`, likes and follows), plus the flags the message
    template asks instead of comparing ids: `is_own` (the viewer wrote it: styled as theirs),
    `can_delete` (Message.deletable_by, what services.message_delete enforces) and, on a board
    or profile card, `can_follow` (Board/User.may_be_followed_by, what the follow services
    enforce: not your own board, not yourself)."""
    messages = prepare_messages(rows, viewer)
    for message in messages:
        message.is_own = message.is_sent_by(viewer)
        message.can_delete = message.deletable_by(viewer)
        if message.kind == Message.Kind.BOARD and message.board is not None:
            message.can_follow = message.board.may_be_followed_by(viewer)
        elif message.kind == Message.Kind.PROFILE and message.profile is not None:
            message.can_follow = message.profile.may_be_followed_by(viewer)
    return messages


def _page_of_messages(conversation: Conversation, viewer, *, before: int | None):
    """The newest PAGE_SIZE messages (older than `before`, when given), oldest first, prepared
    for the viewer; and the cursor for the page before them, or None when there is none.
    Keyset on the id through the (conversation, -id) index: no OFFSET, no COUNT."""
    rows = Message.objects.filter(conversation=conversation).with_card_data()
    rows = rows.with_block_flag(viewer)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    rows = list(rows.order_by("-pk")[: PAGE_SIZE + 1])
    older = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return _prepare(reversed(rows[:PAGE_SIZE]), viewer), older


def _newer_messages(conversation: Conversation, viewer, *, after: int):
    """Up to PAGE_SIZE messages after the cursor, oldest first (what an open page lacks), and
    whether more follow them."""
    rows = Message.objects.filter(conversation=conversation, pk__gt=after).with_card_data()
    rows = list(rows.with_block_flag(viewer).order_by("pk")[: PAGE_SIZE + 1])
    return _prepare(rows[:PAGE_SIZE], viewer), len(rows) > PAGE_SIZE


def _one_message(message_pk: int, viewer) -> Message:
    rows = Message.objects.with_card_data().with_block_flag(viewer).filter(pk=message_pk)
    return _prepare(rows, viewer)[0]


def _people(conversation: Conversation, viewer):
    """Everyone in the conversation now (one query): (all of them, you, the others). Each is
    flagged `is_viewer` ("You" on the page, and no "Block" button next to yourself)."""
    participants = list(
        Participant.objects.active()
        .filter(conversation=conversation)
        .select_related("user", "invited_by")
        .order_by("joined_at", "pk")
    )
    for participant in participants:
        participant.is_viewer = participant.user_id == viewer.pk
    me = next(p for p in participants if p.is_viewer)
    return participants, me, [p for p in participants if not p.is_viewer]


def _title(conversation: Conversation, others: list[Participant]) -> str:
    if conversation.name:
        return conversation.name
    if not others:
        return "Just you"
    return ", ".join(participant.user.name for participant in others)


def _conversation_url(pk: int, anchor: str = "") -> str:
    return reverse("conversation", kwargs={"pk": pk}) + (f"#{anchor}" if anchor else "")


def _message_url(message: Message) -> str:
    return _conversation_url(message.conversation_id, f"message-{message.pk}")


def _older_url(conversation: Conversation, cursor: int | None) -> str:
    return f"{_conversation_url(conversation.pk)}?before={cursor}" if cursor else ""


def _render_page(request, conversation, *, before=None, form=None, reply_form=None, status=200):
    if getattr(conversation, "hidden", False):  # hidden by a block: never shown
        raise Http404
    messages, older = _page_of_messages(conversation, request.user, before=before)
    participants, me, others = _people(conversation, request.user)
    if reply_form is not None:
        # A refused reply is shown in the reply box it came from; if that card is not on this
        # page, the composer shows it instead (it keeps the text and what it answered).
        replied = next((m for m in messages if m.pk == reply_form.reply_to_pk), None)
        if replied is not None:
            replied.reply_form = reply_form
        else:
            form = reply_form
    context = {
        "conversation": conversation,
        "message_list": messages,
        "older_url": _older_url(conversation, older),
        "before": before,
        "participants": participants,
        "others": others,
        "me": me,
        "title": _title(conversation, others),
        "form": form or MessageForm(user=request.user, conversation=conversation),
        # Who the composer's @ suggests (static/js/mentions.js): the others who see the
        # conversation now, which is whom a mention can name (services._store_mentions).
        "mention_people": [
            {"username": p.user.username, "name": p.user.name}
            for p in others
            if p.declined_at is None
        ],
    }
    return render(request, "messaging/conversation.html", context, status=status)


@login_required
def conversation_detail(request, pk: int):
    """The page (the newest messages, the newest in view), or for htmx only its messages:
    with ?before=<id>, the page of older ones that "Load older" puts above the others; with
    ?after=<id>, the ones an open page does not show yet (live updates and polling: 204 when
    there are none; a page of them at a time, the header X-Pinboard-More saying more follow)."""
    conversation = _conversation_or_404(request, pk)
    before = parse_cursor(request.GET.get("before"))
    after = parse_cursor(request.GET.get("after"))
    # Opening the page reads it; a live fetch (?after=) or older messages (?before=) do not:
    # the page says what it showed with an explicit request (conversation_read), or every live
    # fetch would announce "read" back to the tab that made it.
    if before is None and after is None:
        services.conversation_mark_read(conversation=conversation, user=request.user)
    if request.htmx and after is not None:
        newer, more = _newer_messages(conversation, request.user, after=after)
        if not newer:
            return HttpResponse(status=204)
        context = {"message_list": newer}
        response = render(request, "messaging/components.html#message_items", context)
        if more:
            # Back after a long absence: the page asks again, from the last of these (live.js).
            response["X-Pinboard-More"] = "true"
        return response
    if request.htmx:
        messages, older = _page_of_messages(conversation, request.user, before=before)
        context = {
            "conversation": conversation,
            "message_list": messages,
            "older_url": _older_url(conversation, older),
        }
        return render(request, "messaging/conversation.html#messages", context)
    return _render_page(request, conversation, before=before)


@require_POST
@login_required
def conversation_read(request, pk: int):
    """An open page has shown the newest messages (static/js/live.js, after a live fetch while
    the page is in view): mark them read, which clears the person's badges in their other tabs.
    """
    conversation = _conversation_or_404(request, pk)
    services.conversation_mark_read(conversation=conversation, user=request.user)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(_conversation_url(pk, "latest"))


@login_required
def message_detail(request, pk: int, message_pk: int):
    """One message as the list shows it (what "Cancel" brings back after an inline edit)."""
    visible = Message.objects.readable_by(request.user).filter(conversation_id=pk)
    message = get_object_or_404(visible, pk=message_pk)
    if not request.htmx:
        return redirect(_message_url(message))
    return render(
        request,
        "messaging/components.html#message",
        {"message": _one_message(message.pk, request.user)},
    )


# --- Sending -------------------------------------------------------------------------------


@require_POST
@login_required
def conversation_post(request, pk: int):
    """Send from the composer or from a card's reply box (`reply_to`).

    htmx: answers with the new message, which the form appends to the list, and a fresh
    composer (or a fresh, closed reply box) out of band, with a new idempotency key. A refused
    send answers with the form again, its errors shown and the text kept, retargeted to where
    the form is (status 200, so htmx swaps it in). Without JavaScript: back to #latest, or the
    page again with the errors (400). In a conversation a block has hidden, the send is refused
    with "You can't message …" (without JavaScript: back to the inbox, which says so).
    """
    conversation = _member_conversation_or_404(request, pk)
    form = MessageForm(request.POST, user=request.user, conversation=conversation)
    sent = None
    if form.is_valid():
        # Without JavaScript, refused: the page again with the text still in its form.
        forms = {"reply_form": form} if form.reply_to_pk is not None else {"form": form}
        check_rate(
            action="message",
            key=request.user.pk,
            page=lambda: _render_page(request, conversation, **forms),
        )
        try:
            sent = services.message_send(
                sender=request.user,
                conversation=conversation,
                text=form.cleaned_data["text"],
                attachment=form.cleaned_data["attachment"],
                reply_to=form.cleaned_data["reply_to"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_send_error(exc)
    if sent is None:
        return _refused(request, conversation, form)
    if not request.htmx:
        return redirect(_conversation_url(pk, "latest"))
    context = {"conversation": conversation, "message_list": [_one_message(sent.pk, request.user)]}
    replied = form.cleaned_data["reply_to"]
    if replied is not None:
        context["replied"] = replied
    else:
        context["form"] = MessageForm(user=request.user, conversation=conversation)
    return render(request, "messaging/conversation.html#sent", context)


def _refused(request, conversation: Conversation, form: MessageForm):
    is_reply = form.reply_to_pk is not None
    if not request.htmx and getattr(conversation, "hidden", False):
        flash.error(request, " ".join(form.non_field_errors()) or "You can't message them.")
        return redirect("inbox")
    if not request.htmx:
        if is_reply:
            return _render_page(request, conversation, reply_form=form, status=400)
        return _render_page(request, conversation, form=form, status=400)
    replied = form.cleaned_data.get("reply_to")
    if replied is not None:
        replied.reply_form = form
        response = render(request, "messaging/components.html#reply_box", {"message": replied})
        target = f"#reply-{replied.pk}"
    else:
        context = {"conversation": conversation, "form": form}
        response = render(request, "messaging/conversation.html#composer", context)
        target = "#composer"
    return reswap(retarget(response, target), "outerHTML")


# --- Editing and deleting your own messages ------------------------------------------------


def _render_edit(request, message: Message, form: MessageEditForm, *, status: int = 200):
    context = {"message": message, "edit_form": form}
    if request.htmx:
        return render(request, "messaging/components.html#message_editing", context)
    return render(request, "messaging/message_edit.html", context, status=status)


@login_required
def message_edit(request, pk: int, message_pk: int):
    """Edit your text message within 15 minutes: inline with htmx, or on its own page."""
    message = _own_message_or_404(request, pk, message_pk)
    if request.method == "POST":
        form = MessageEditForm(request.POST)
        if form.is_valid():
            try:
                services.message_edit(
                    message=message, editor=request.user, text=form.cleaned_data["text"]
                )
            except ValidationError as exc:
                form.add_error("text", exc)
            else:
                if request.htmx:
                    context = {"message": _one_message(message.pk, request.user)}
                    return render(request, "messaging/components.html#message", context)
                return redirect(_message_url(message))
        # Refused (too late, empty, too long): the form again, keeping what was typed.
        return _render_edit(request, message, form, status=400)
    if not services.message_can_be_edited(message, request.user):
        if request.htmx:
            context = {"message": _one_message(message.pk, request.user)}
            response = render(request, "messaging/components.html#message", context)
            return trigger_client_event(
                response, "toast", {"message": EDIT_WINDOW_EXPIRED, "level": "error"}
            )
        flash.error(request, EDIT_WINDOW_EXPIRED)
        return redirect(_message_url(message))
    return _render_edit(request, message, MessageEditForm(initial={"text": message.text}))


@require_POST
@login_required
def message_delete(request, pk: int, message_pk: int):
    """Delete your message: it stays in place as "message deleted", its text and card gone."""
    message = _own_message_or_404(request, pk, message_pk)
    services.message_delete(message=message, user=request.user)
    if request.htmx:
        context = {"message": _one_message(message.pk, request.user)}
        return render(request, "messaging/components.html#message", context)
    flash.success(request, "Message deleted.")
    return redirect(_message_url(message))


# --- Managing the conversation -------------------------------------------------------------


def _render_manage(request, conversation, *, add_form=None, rename_form=None, status=200):
    participants, me, others = _people(conversation, request.user)
    # Whom of them the person has blocked already (their row says so instead of "Block").
    blocked = set(
        Block.objects.filter(
            blocker=request.user, blocked_id__in=[p.user_id for p in others]
        ).values_list("blocked_id", flat=True)
    )
    for participant in others:
        participant.blocked = participant.user_id in blocked
    context = {
        "conversation": conversation,
        "participants": participants,
        "me": me,
        "title": _title(conversation, others),
        "room": max(0, services.max_participants() - len(participants)),
        "can_rename": conversation.is_nameable(len(participants)),
        "levels": NotifyLevel.choices,
        "add_form": add_form or AddPeopleForm(),
        "rename_form": rename_form or RenameConversationForm(initial={"name": conversation.name}),
    }
    return render(request, "messaging/conversation_manage.html", context, status=status)


@login_required
def conversation_manage(request, pk: int):
    """Who is in it; add people, rename the group, choose what notifies you, leave."""
    return _render_manage(request, _conversation_or_404(request, pk))


def _names(people) -> str:
    names = [person.name for person in people]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@require_POST
@login_required
def conversation_add_people(request, pk: int):
    conversation = _conversation_or_404(request, pk)
    form = AddPeopleForm(request.POST)
    if form.is_valid():
        try:
            added = services.conversation_add_people(
                conversation=conversation, by=request.user, people=form.cleaned_data["usernames"]
            )
        except ValidationError as exc:
            form.add_error("usernames", exc)
        else:
            names = _names(participant.user for participant in added)
            flash.success(request, f"Added {names}. They can see the whole conversation.")
            return redirect(_conversation_url(pk, "latest"))
    return _render_manage(request, conversation, add_form=form, status=400)


@require_POST
@login_required
def conversation_rename(request, pk: int):
    conversation = _conversation_or_404(request, pk)
    form = RenameConversationForm(request.POST)
    if form.is_valid():
        try:
            services.conversation_rename(
                conversation=conversation, by=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            name = conversation.name
            flash.success(request, f"Renamed to “{name}”." if name else "Group name removed.")
            return redirect(_conversation_url(pk, "latest"))
    return _render_manage(request, conversation, rename_form=form, status=400)


LEVEL_SAVED = {
    NotifyLevel.ALL: "You'll hear about every new message here.",
    NotifyLevel.MENTIONS: "You'll hear only when someone mentions you here.",
    NotifyLevel.NONE: "This conversation no longer notifies you or adds to your unread count.",
}


@require_POST
@login_required
def conversation_level(request, pk: int):
    """Everything, mentions only or nothing. The form names the level, so a double submit
    can't flip it."""
    conversation = _conversation_or_404(request, pk)
    level = request.POST.get("level", "")
    try:
        services.conversation_set_level(conversation=conversation, user=request.user, level=level)
    except ValidationError as exc:
        flash.error(request, exc.messages[0])
        return redirect(reverse("conversation_manage", args=[pk]))
    flash.success(request, LEVEL_SAVED[level])
    return redirect(_conversation_url(pk, "latest"))


@require_POST
@login_required
def conversation_leave(request, pk: int):
    conversation = _conversation_or_404(request, pk)
    _, _, others = _people(conversation, request.user)
    title = _title(conversation, others)
    services.conversation_leave(conversation=conversation, user=request.user)
    flash.success(request, f"You left “{title}”. Someone in it can add you back.")
    return redirect("inbox")
