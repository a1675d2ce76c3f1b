"""`unread_total` and `unread_notifications`: the nav's badges on every page
(templates/includes/site_header.html)."""

from django.db import connection
from django.utils.functional import SimpleLazyObject

from messaging.bell import UNREAD_COUNT
from messaging.inbox import UNREAD_TOTAL


def nav_counts(user) -> tuple[int, int]:
    """(unread messages, unread notifications) in one round trip: both badges are on every
    page, and the second one must not cost every page a query more."""
    if user is None or not user.is_authenticated:
        return 0, 0
    messages_sql, messages_params = UNREAD_TOTAL.bind(user=user.pk)
    bell_sql, bell_params = UNREAD_COUNT.bind(user=user.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(({messages_sql}), 0), COALESCE(({bell_sql}), 0)",
            [*messages_params, *bell_params],
        )
        return cursor.fetchone()


def unread(request) -> dict:
    """The signed-in person's unread messages over their active conversations, as each one's
    notification level counts them, and their unread notifications (the bell).

    Lazy: the one query runs only when a template reads either value, so a page without the nav
    (an htmx fragment, an error page) pays nothing; anonymous visitors get 0 without a query.
    """
    user = getattr(request, "user", None)
    if user is None:
        return {}
    counts = SimpleLazyObject(lambda: nav_counts(user))
    return {
        "unread_total": SimpleLazyObject(lambda: counts[0]),
        "unread_notifications": SimpleLazyObject(lambda: counts[1]),
    }
