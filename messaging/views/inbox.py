"""The inbox (/messages/): conversations by latest activity, each with a quick-reply box."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from accounts.ratelimit import check_rate
from messaging import services
from messaging.forms import QuickReplyForm
from messaging.inbox import Cursor, inbox_page, inbox_row, request_count
from messaging.models import Conversation


@login_required
def inbox(request):
    """The page, or (for htmx) just its rows: the next page when "More" scrolls into view."""
    cursor = Cursor.decode(request.GET.get("after"))
    page = inbox_page(request.user, cursor=cursor)
    next_url = f"{reverse('inbox')}?after={page.next_cursor}" if page.has_next else ""
    context = {"conversations": page.conversations, "next_url": next_url, "cursor": cursor}
    if request.htmx:
        return render(request, "messaging/inbox.html#rows", context)
    # The Requests tab's count (messaging/views/requests.py): one COUNT.
    context["request_count"] = request_count(request.user)
    return render(request, "messaging/inbox.html", context)


@require_POST
@login_required
def quick_reply(request, pk: int):
    """Send a text reply from an inbox row.

    htmx: answers with the updated row (its preview now "You: …", the box empty) or, when the
    reply is refused, with the row showing why and keeping the text (status 200, so htmx swaps
    it in). Without JavaScript: back to the inbox with a message, or that row alone with its
    error and the text kept. Into a conversation a block has hidden (a tab opened before the
    block), the reply is refused with "You can't message …", as the composer's is.
    """
    conversation = _reply_target_or_404(request, pk)
    form = QuickReplyForm(request.POST)
    if form.is_valid():
        # A hidden conversation has no row to keep the text in: the plain page says why.
        kept = None if conversation.hidden else (lambda: _reply_kept(request, pk, form))
        check_rate(action="message", key=request.user.pk, page=kept)
        try:
            services.message_send(
                sender=request.user,
                conversation=conversation,
                text=form.cleaned_data["text"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as exc:
            form.add_error("text", exc)
    sent = not form.errors
    if not sent and conversation.hidden:
        return _refused_hidden(request, form)
    row = inbox_row(request.user, pk)
    if sent and not request.htmx:
        messages.success(request, f"Reply sent to {row.title}.")
        return redirect(f"{reverse('inbox')}#conversation-{pk}")
    if not sent:
        row.reply_text = form.data.get("text", "")
        row.reply_errors = [error for errors in form.errors.values() for error in errors]
        if form.cleaned_data.get("idempotency_key"):
            row.reply_key = form.cleaned_data["idempotency_key"]
    if request.htmx:
        # A reply marks the conversation read: the nav badge is refreshed out of band.
        template = "messaging/inbox.html#replied" if sent else "messaging/inbox.html#row"
        response = render(request, template, {"conversation": row})
        if sent:
            trigger_client_event(response, "toast", {"message": "Reply sent.", "level": "success"})
        return response
    context = {"conversations": [row], "next_url": "", "reply_failed": True}
    return render(request, "messaging/inbox.html", context, status=400)


def _reply_target_or_404(request, pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.readable_by(request.user, hidden_too=True), pk=pk)


def _refused_hidden(request, form: QuickReplyForm):
    """A reply refused in a conversation a block has hidden. It has no inbox row any more, so:
    htmx gets an empty 403 whose toast says why (htmx swaps nothing, so the text stays in its
    box); without JavaScript, a small page says why and keeps the text to copy."""
    message = " ".join(error for errors in form.errors.values() for error in errors)
    if request.htmx:
        response = HttpResponse(status=403)
        return trigger_client_event(response, "toast", {"message": message, "level": "error"})
    context = {"message": message, "text": form.data.get("text", "")}
    return render(request, "messaging/reply_refused.html", context, status=403)


def _reply_kept(request, pk: int, form: QuickReplyForm):
    """The conversation's row alone with the reply still in its box (without JavaScript)."""
    row = inbox_row(request.user, pk)
    row.reply_text = form.data.get("text", "")
    row.reply_key = form.cleaned_data["idempotency_key"]
    context = {"conversations": [row], "next_url": "", "reply_failed": True}
    return render(request, "messaging/inbox.html", context)


@login_required
def row(request, pk: int):
    """One inbox row, up to date: what the live-updates script swaps in when news arrives."""
    conversation = inbox_row(request.user, pk)
    if conversation is None:
        raise Http404
    return render(request, "messaging/inbox.html#row", {"conversation": conversation})
