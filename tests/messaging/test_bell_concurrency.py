"""Two events about the same subject at the same moment meet in one unread group: the second
waits on the partial unique index until the first commits, then joins its row."""

import threading

import pytest
from django.db import connection, transaction

from messaging.models import Notification, NotificationActor, NotificationKind
from messaging.notifications import notify
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_saves_join_one_group():
    ada = UserFactory(display_name="Ada")
    pin = PinFactory(board=BoardFactory(owner=ada), title="Blue sofa")
    bea, cy = UserFactory(), UserFactory()
    first_inside = threading.Event()
    let_first_commit = threading.Event()
    results, errors = {}, []

    def first():
        try:
            with transaction.atomic():
                results["first"] = notify(
                    kind=NotificationKind.PIN_SAVED, recipient_id=ada.pk, actor_id=bea.pk, pin=pin
                )
                first_inside.set()
                let_first_commit.wait(10)
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    def second():
        try:
            first_inside.wait(10)
            results["second"] = notify(
                kind=NotificationKind.PIN_SAVED, recipient_id=ada.pk, actor_id=cy.pk, pin=pin
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_inside.wait(10)
    threads[1].join(0.5)
    assert threads[1].is_alive()  # waiting for the first group's row, not making its own
    let_first_commit.set()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert results["first"] == results["second"]
    group = Notification.objects.get()
    assert group.actor_count == 2
    assert NotificationActor.objects.filter(notification=group).count() == 2
