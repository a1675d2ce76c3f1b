from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.forms import DeleteAccountForm, MessagePrivacyForm, ProfileForm
from accounts.models import Block, User
from accounts.ratelimit import check_rate
from accounts.redirects import own_site_url
from accounts.services import (
    user_block,
    user_delete,
    user_set_message_privacy,
    user_unblock,
    user_update_profile,
)


@login_required
def profile_edit(request):
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        instance=request.user,
    )
    if request.method == "POST" and form.is_valid():
        user_update_profile(
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            bio=form.cleaned_data["bio"],
            avatar=form.cleaned_data["avatar_upload"],
            remove_avatar=form.cleaned_data["remove_avatar"],
        )
        messages.success(request, "Your profile is saved.")
        return redirect("profile_edit")
    return render(request, "accounts/profile_edit.html", {"form": form})


# --- Blocking ---------------------------------------------------------------------------------


def _next_or(request, default: str) -> str:
    """Where to go after blocking or unblocking: `next` if it is on our own site (a block made
    from a conversation returns there), else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return own_site_url(request, target, default)


def _go(request, url: str):
    # Blocking changes most of the page (buttons, boards, pins): reload it rather than swap.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def block(request, username: str):
    """GET: the confirmation (what blocking does), a page or, with htmx, a dialog. POST: block."""
    person = get_object_or_404(User.objects.active(), username__iexact=username)
    next_url = _next_or(request, person.get_absolute_url())
    if person == request.user:
        messages.error(request, "You can't block yourself.")
        return _go(request, next_url)
    if request.method == "POST":
        user_block(blocker=request.user, blocked=person)
        messages.success(request, f"You blocked {person.name}. They won't be told.")
        return _go(request, next_url)
    template = "accounts/block_confirm.html"
    if request.htmx:
        template += "#dialog"
    return render(request, template, {"person": person, "next_url": next_url})


@require_POST
@login_required
def unblock(request, username: str):
    person = get_object_or_404(User.objects.active(), username__iexact=username)
    user_unblock(blocker=request.user, blocked=person)
    messages.success(request, f"You unblocked {person.name}.")
    return _go(request, _next_or(request, person.get_absolute_url()))


@login_required
@require_http_methods(["GET", "POST"])
def blocked_people(request):
    """Settings: the people you blocked, each with an Unblock button (POST `username`)."""
    if request.method == "POST":
        person = User.objects.filter(
            blocks_received__blocker=request.user, username=request.POST.get("username", "")
        ).first()
        if person is None:  # a double submit or a stale page: nothing left to undo
            level, text = messages.ERROR, "That person is not blocked any more."
        else:
            user_unblock(blocker=request.user, blocked=person)
            level, text = messages.SUCCESS, f"You unblocked {person.name}."
        if not request.htmx:
            messages.add_message(request, level, text)
            return redirect("settings_blocked")
    blocks = (
        Block.objects.filter(blocker=request.user)
        .select_related("blocked")
        .order_by("-created_at", "-id")
    )
    if request.method == "GET":
        return render(request, "accounts/blocked.html", {"blocks": blocks})
    # htmx: the list again, without the row just unblocked, and the outcome as a toast.
    response = render(request, "accounts/blocked.html#blocked_list", {"blocks": blocks})
    toast = {"message": text, "level": messages.DEFAULT_TAGS[level]}
    return trigger_client_event(response, "toast", toast)


# --- Deleting an account ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST":
        # Every attempt counts, right or wrong: the form is a password check.
        check_rate(action="account_delete", key=request.user.pk)
    if request.method == "POST" and form.is_valid():
        user_delete(user=request.user)
        logout(request)  # this browser's session; user_delete ended every other one
        messages.success(request, "Your account has been deleted. Goodbye, and thank you.")
        return redirect(reverse("home"))
    status = 400 if form.is_bound else 200
    return render(request, "accounts/delete_account.html", {"form": form}, status=status)


# --- Who can message me -----------------------------------------------------------------------


@login_required
def privacy_settings(request):
    """Who can message me: a radio group, saved through accounts.services."""
    initial = {"message_privacy": request.user.message_privacy}
    form = MessagePrivacyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        user_set_message_privacy(
            user=request.user, message_privacy=form.cleaned_data["message_privacy"]
        )
        messages.success(request, "Saved: " + _PRIVACY_SAVED[request.user.message_privacy])
        return redirect("settings_privacy")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/settings_privacy.html", {"form": form}, status=status)


_PRIVACY_SAVED = {
    User.MessagePrivacy.EVERYONE: "anyone can message you.",
    User.MessagePrivacy.FOLLOWING: "people you follow can message you; others send requests.",
    User.MessagePrivacy.NOBODY: "every new conversation arrives as a request.",
}
