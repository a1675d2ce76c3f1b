"""`manage.py bench_push`: how long from a send to the push request reaching the push service.

The whole path, with real parts: messages sent through messaging.services into a conversation
of `group` people, each person away (no Presence) with one browser subscribed at a local push
service (push_service.PushService, which checks the VAPID JWT and decrypts every payload); the
fan-out runs on a real `manage.py db_worker` process, as `make run` and production run it:
deliver_message, then one send_push task per browser. The time of a push is from the message's
created_at (when the send's transaction wrote it) to the moment its request reached the service.
"""

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings

from accounts.models import User
from messaging.management.benchmarks.push_service import PushService
from messaging.models import Message, PushSubscription
from messaging.push import new_vapid_keys
from messaging.services import conversation_send, message_send

PREFIX = "pushbench"
PROJECT = Path(settings.BASE_DIR)


@dataclass
class Result:
    messages: int
    pushes_expected: int
    pushes: list[float]  # seconds from send to arrival, one per push
    last_per_message: list[float]  # seconds from send to the message's last push
    rejected: int
    elapsed: float


def _people(service: PushService, group: int) -> tuple[User, list[User]]:
    User.objects.filter(username__startswith=PREFIX).delete()
    sender = User.objects.create_user(username=f"{PREFIX}0", email=f"{PREFIX}0@example.com")
    others = []
    for n in range(1, group):
        person = User.objects.create_user(username=f"{PREFIX}{n}", email=f"{PREFIX}{n}@x.test")
        keys = service.subscription(person.username)
        PushSubscription.objects.create(
            user=person,
            endpoint=keys["endpoint"],
            p256dh=keys["keys"]["p256dh"],
            auth=keys["keys"]["auth"],
            device="bench",
        )
        others.append(person)
    return sender, others


def _start_worker(env: dict, interval: float) -> subprocess.Popen:
    argv = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    argv += ["--interval", str(interval)]
    return subprocess.Popen(
        argv, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


# What `make run` and production use: jobs in PostgreSQL, run by the worker process.
WORKER_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run(
    *,
    messages: int,
    group: int,
    rate: float,
    interval: float,
    timeout: float,
    progress,
    database_url: str | None = None,
) -> Result:
    """`database_url`: where the worker connects, if not this environment's DATABASE_URL."""
    with override_settings(TASKS=WORKER_TASKS):
        return _run(messages, group, rate, interval, timeout, progress, database_url)


def _run(messages, group, rate, interval, timeout, progress, database_url) -> Result:
    public, private = new_vapid_keys()
    # This process enqueues; the worker sends with the same keys and may reach 127.0.0.1.
    env = {
        **os.environ,
        "VAPID_PUBLIC_KEY": public,
        "VAPID_PRIVATE_KEY": private,
        "PUSH_ALLOW_LOCAL_ENDPOINTS": "true",
        "TASKS_IMMEDIATE": "false",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    with PushService() as service:
        sender, others = _people(service, group)
        conversation = conversation_send(
            sender=sender, recipients=others, text="Bench"
        ).conversation
        worker = _start_worker(env, interval)
        try:
            # The worker's start (Django setup, the first message's pushes) is not measured:
            # the clock starts once the conversation's first message has reached everyone.
            warm_until = time.time() + 60
            while len(service.received) < group - 1 and time.time() < warm_until:
                time.sleep(0.1)
            service.received.clear()
            sent_at: dict[int, float] = {}
            started = time.time()
            for n in range(messages):
                with transaction.atomic():
                    message = message_send(
                        sender=sender, conversation=conversation, text=f"Message {n}"
                    )
                sent_at[message.pk] = message.created_at.timestamp()
                time.sleep(max(0.0, started + (n + 1) / rate - time.time()))
            expected = messages * (group - 1)
            deadline = time.time() + timeout
            while len(service.received) < expected and time.time() < deadline:
                progress(len(service.received), expected)
                time.sleep(0.5)
            elapsed = time.time() - started
        finally:
            worker.terminate()
            worker.wait(10)
        pushes, last = [], {}
        for got in service.received:
            pk = int(got.payload["url"].rsplit("message-", 1)[1])
            if pk in sent_at:
                delay = got.at - sent_at[pk]
                pushes.append(delay)
                last[pk] = max(last.get(pk, 0.0), delay)
        result = Result(
            messages=messages,
            pushes_expected=expected,
            pushes=sorted(pushes),
            last_per_message=sorted(last.values()),
            rejected=len(service.rejected),
            elapsed=elapsed,
        )
    Message.objects.filter(conversation=conversation).delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]
