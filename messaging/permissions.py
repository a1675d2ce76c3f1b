"""Who may message whom: the one place that decides it (the safety issue extends it with blocks
and "who can message me" settings)."""

from accounts.models import User


def can_message(sender: User, recipient: User) -> bool:
    return sender.pk != recipient.pk and recipient.is_active and sender.is_active
