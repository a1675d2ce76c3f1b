"""`unread_total` and `unread_notifications`: the nav's badges on every page
(templates/includes/site_header.html)."""

from django.utils.functional import SimpleLazyObject

from messaging.bell import unread_count
from messaging.inbox import unread_total


def unread(request) -> dict:
    """The signed-in person's unread messages over their active conversations, as each one's
    notification level counts them.

    Lazy: the one query runs only when a template reads the value, so a page without the nav
    (an htmx fragment, an error page) pays nothing; anonymous visitors get 0 without a query.
    """
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {
        "unread_total": SimpleLazyObject(lambda: unread_total(user)),
        # The bell's count, as lazy: one COUNT over the partial unread index when shown.
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }
