"""Template helpers for the conversation page."""

import uuid

from django import template

register = template.Library()


@register.simple_tag
def new_idempotency_key() -> str:
    """A fresh key for a send form: the form keeps it across a failed submit, so a retry or a
    double click sends one message (messaging.services' idempotent sends)."""
    return str(uuid.uuid4())
