from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def unread_badge(request):
    """The nav's unread badge alone, refreshed by the live-updates script when events arrive."""
    return render(request, "includes/site_header.html#nav_badge")
