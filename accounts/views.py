from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.forms import ProfileForm
from accounts.services import user_update_profile


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
