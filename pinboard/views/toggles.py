"""The answer to a toggle button (like, follow): one shape for every such view."""

from collections.abc import Callable

from django.contrib import messages
from django.shortcuts import redirect, render
from django_htmx.http import trigger_client_event


def toggle_answer(request, *, fragment: str, context: Callable[[], dict], refused: str, back_to):
    """With htmx: the button's fresh fragment (`context()` is read after the write), plus an
    error toast when the service refused. Without: back to the page, the refusal flashed."""
    if request.htmx:
        response = render(request, fragment, context())
        if refused:
            toast = {"message": refused, "level": "error"}
            response = trigger_client_event(response, "toast", toast)
        return response
    if refused:
        messages.error(request, refused)
    return redirect(back_to)
