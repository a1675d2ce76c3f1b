"""Every model's changelist and change page render for staff, with a fixed number of queries."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging.tasks import deliver_message
from tests.factories import (
    BlockFactory,
    BoardFollowFactory,
    BoardMemberFactory,
    CommentFactory,
    EventFactory,
    FollowFactory,
    LikeFactory,
    MessageFactory,
    ParticipantFactory,
    PinFactory,
    PinImageFactory,
    ReportFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client_for, user):
    user.is_staff = user.is_superuser = True
    user.save()
    return client_for(user)


def make_rows(image):
    pin = PinFactory(image=image)
    BoardMemberFactory(board=pin.board)
    LikeFactory(pin=pin)
    CommentFactory(pin=pin)
    FollowFactory()
    BlockFactory()
    BoardFollowFactory(board=pin.board)
    # A conversation carrying the pin, one reported message and one not, and their events.
    message = MessageFactory(pin=pin)
    ParticipantFactory(conversation=message.conversation, user=message.sender)
    ParticipantFactory(conversation=message.conversation)
    reported = MessageFactory(conversation=message.conversation, sender=message.sender)
    ReportFactory(message=reported)
    ReportFactory(pin=pin)
    EventFactory(message=message, user=message.sender)
    return pin


# Django's groups, and the task queue (tested on its own below: it needs a queued task).
LEFT_OUT = {"auth", "django_tasks_database"}


def registered_models():
    return [model for model in admin.site._registry if model._meta.app_label not in LEFT_OUT]


def test_the_task_queue_shows_a_waiting_task_to_staff(staff_client, settings):
    """django-tasks-db's own admin lists the worker's jobs: what is waiting, what failed."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = deliver_message.enqueue(12345)
    changelist = staff_client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))
    assert changelist.status_code == 200
    assert "deliver_message" in changelist.text
    change = reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.id])
    assert staff_client.get(change).status_code == 200


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_and_change_page_render_with_fixed_queries(staff_client, model):
    image = PinImageFactory()
    make_rows(image)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    obj = model._default_manager.first()
    change = reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
    )
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(url).status_code == 200
    staff_client.get(change)  # warm Django's per-process caches (content types)
    with CaptureQueriesContext(connection) as small_change:
        assert staff_client.get(change).status_code == 200
    for _ in range(10):
        make_rows(image)
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(url)
    assert response.status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    with CaptureQueriesContext(connection) as large_change:
        assert staff_client.get(change).status_code == 200
    assert len(large_change) == len(small_change), [q["sql"] for q in large_change]
