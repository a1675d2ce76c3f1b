"""Message requests (/messages/requests/) and blocking from inside messaging.

A conversation from someone outside the recipient's "who can message me" choice waits in their
Requests tab (messaging/permissions.py decides). Opening it shows it read-only with Accept,
Decline and Block in place of the composer; replying needs accepting first. The sender's side
looks like any sent conversation whatever the answer.
"""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from messaging import services
from messaging.inbox import Cursor, inbox_page, request_count
from messaging.models import Conversation, Participant

TEMPLATE = "messaging/requests.html"
ANSWERS = ("accept", "decline", "block")


@login_required
def request_list(request):
    """The Requests tab: conversations waiting for the person to accept them, newest first (the
    inbox's keyset pages; htmx asks for the next page's rows only)."""
    cursor = Cursor.decode(request.GET.get("after"))
    page = inbox_page(request.user, cursor=cursor, requests=True)
    url = reverse("message_requests")
    next_url = f"{url}?after={page.next_cursor}" if page.has_next else ""
    context = {"conversations": page.conversations, "next_url": next_url, "cursor": cursor}
    if request.htmx:
        return render(request, f"{TEMPLATE}#rows", context)
    context["request_count"] = request_count(request.user)
    return render(request, TEMPLATE, context)


@login_required
def request_count_badge(request):
    """The Requests tab's count alone: what static/js/live.js fetches when a request's news
    arrives (requests never touch the nav's unread badge)."""
    return render(request, f"{TEMPLATE}#count", {"request_count": request_count(request.user)})


@require_POST
@login_required
def request_answer(request, pk: int):
    """Accept, decline or block (the form's button says which). Accept opens the conversation
    as usual; decline and block go back to the Requests tab. Answering a request already
    accepted (a double submit) just opens the conversation."""
    conversation = get_object_or_404(Conversation.objects.readable_by(request.user), pk=pk)
    answer = request.POST.get("answer", "")
    if answer not in ANSWERS:
        raise BadRequest("Choose Accept, Decline or Block.")
    conversation_url = reverse("conversation", kwargs={"pk": pk})
    if answer == "accept":
        services.request_accept(conversation=conversation, user=request.user)
        flash.success(request, "Request accepted. You can reply now.")
        # No "#latest": from the request's own page, a URL differing only by its fragment would
        # not reload it (the page scrolls to the newest message by itself).
        url = conversation_url
    else:
        participant = Participant.objects.current().filter(
            conversation=conversation, user=request.user, is_request=True
        )
        if not participant.exists():  # already accepted: declining now would be leaving
            return _go(request, conversation_url)
        if answer == "decline":
            services.request_decline(conversation=conversation, user=request.user)
            flash.success(request, "Request declined. You won't see this conversation again.")
        else:
            blocked = services.request_block(conversation=conversation, user=request.user)
            who = blocked.name if blocked is not None else "them"
            flash.success(request, f"You blocked {who} and declined the request.")
        url = reverse("message_requests")
    return _go(request, url)


def _go(request, url: str):
    # htmx: a whole-page navigation (the page it came from no longer applies).
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@login_required
def conversation_block(request, pk: int, username: str):
    """Block someone in the conversation, from its Manage page. They are not told. A one-to-one
    conversation disappears for both, so that goes back to the inbox; a group stays, with their
    messages collapsed for you."""
    conversation = get_object_or_404(Conversation.objects.readable_by(request.user), pk=pk)
    members = User.objects.filter(
        participations__conversation=conversation, participations__left_at__isnull=True
    )
    person = get_object_or_404(members, username=username)
    try:
        services.conversation_block_person(
            conversation=conversation, by=request.user, person=person
        )
    except ValidationError as exc:  # yourself
        flash.error(request, " ".join(exc.messages))
        return redirect("conversation_manage", pk=pk)
    if Conversation.objects.readable_by(request.user).filter(pk=pk).exists():
        flash.success(
            request, f"You blocked {person.name}. Their messages here are collapsed for you."
        )
        return redirect("conversation", pk=pk)
    flash.success(request, f"You blocked {person.name}. You won't see this conversation again.")
    return redirect("inbox")
