from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from messaging import services
from messaging.models import Conversation


@require_POST
@login_required
def typing(request, pk: int):
    """ "<name> is typing…" for the others in the conversation (the browser throttles these)."""
    conversation = get_object_or_404(Conversation.objects.readable_by(request.user), pk=pk)
    services.publish_typing(conversation=conversation, user=request.user)
    return HttpResponse(status=204)
