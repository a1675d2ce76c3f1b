"""Clients that die without a goodbye cost the server nothing lasting (issue #11).

A crashed tab or a phone that loses its signal looks to the server like a TCP reset in the
middle of a request. These tests make hundreds of such deaths against real server processes:
uvicorn alone, as `make run` serves the whole site, and the production pair (gunicorn's sync
workers for pages, uvicorn for the event stream, each request sent where nginx would send it).
Then they check from outside only (HTTP, /proc, pg_stat_activity) that the site still answers
and holds no more connections, threads or memory than before. Black-box on purpose: they must
keep holding while the server side is rebuilt.

The servers are started once for the module, and again after a test that failed on them: a
test that leaks must not be charged for the next one.
"""

import io
import os
import random
import uuid
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlencode

import pytest
from django.test import Client
from PIL import Image

from messaging.services import conversation_send
from tests import servers
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Django's pool waits 10 s for a free connection before failing: a page that has not answered
# after 5 s is stuck behind an empty pool (or worse), not slow.
LIVENESS_SECONDS = 5
# Issue #11: a dead client frees everything it held "within a few seconds".
SETTLE_SECONDS = 5
DEATHS = 200
LIVING_EVERY = 20

# When, after sending its request, a client dies. On today's code a death leaks a pool
# connection only if the reset arrives after the request's thread has started and before its
# middleware hands over to the view (measured here with a pool-instrumented server: a window of
# a millisecond or so, 2-6 ms after the request was sent on a quiet machine, smeared over 0-30 ms
# on a loaded one). So the deaths are spread over the first 10 ms in 0.05 ms steps: some land in
# every part of the server's early work, whatever the load.
OFFSETS = [step / 20_000 for step in range(200)]

# asyncio's default thread pool (sync_to_async(thread_sensitive=False), DNS lookups) keeps up
# to min(32, CPUs + 4) threads once started, and may start them only under the soak's load: a
# server may end with that many more threads than its baseline without leaking any. A thread
# held per dead client would be 200 more.
THREAD_SLACK = min(32, (os.cpu_count() or 1) + 4)
# CPython rarely gives freed memory back to the OS, and a burst of requests leaves the
# allocator's arenas larger than a quiet baseline: 1-5 MiB a site in the soaks that pass here.
# 24 MiB is well above that noise and well below what 200 dead clients would hold if each kept
# its request (a thread, a spooled upload body, a stream's queue: 100 KiB or more each, 20 MiB
# or more together); the make-run site that hung on dead sends here had grown by 60 MiB.
RSS_SLACK_KIB = 24 * 1024

# Every send and upload must go all the way through the service: the rate limits would
# refuse most of 200 in a minute.
GENEROUS_LIMITS = {"RATE_LIMIT_MESSAGES_PER_MINUTE": "100000", "RATE_LIMIT_PINS_PER_HOUR": "100000"}


# --- Servers -----------------------------------------------------------------------------------


class Sites:
    """The module's servers, each shape started on first use and stopped at the end of the
    module. A shape is started afresh after a test that failed on it: one test's leak must
    not be charged to the next."""

    def __init__(self, env: dict[str, str], log_dir):
        self.env, self.log_dir = env, log_dir
        self.running: dict[str, servers.Site] = {}

    def get(self, shape: str) -> servers.Site:
        # One shape at a time: the connections counted are all those to the test database,
        # and an idle site's pool shrinking meanwhile would hide the other's growth.
        for other in [running for running in self.running if running != shape]:
            self.spoiled(other)
        if shape not in self.running:
            self.running[shape] = self._start(shape)
        return self.running[shape]

    def _start(self, shape: str) -> servers.Site:
        if shape == "make run":
            # One uvicorn process serving everything, as `make run` does.
            server = servers.launch_uvicorn(env=self.env, log_dir=self.log_dir)
            servers.wait_until_ready(server)
            return servers.Site(pages=server, events=server, shape=shape)
        # gunicorn (2 sync workers) for pages and uvicorn for /messages/events/, as the
        # README's production section runs them.
        pages = servers.launch_gunicorn(env=self.env, log_dir=self.log_dir)
        events = servers.launch_uvicorn(env=self.env, log_dir=self.log_dir, production=True)
        servers.wait_until_ready(pages, events)
        return servers.Site(pages=pages, events=events, shape=shape)

    def spoiled(self, shape: str) -> None:
        """Stop the shape's servers; the next test that asks for it gets new ones."""
        site = self.running.pop(shape, None)
        if site is not None:
            site.stop()

    def stop(self) -> None:
        for shape in list(self.running):
            self.spoiled(shape)


@pytest.fixture(scope="module")
def sites(django_db_setup, tmp_path_factory):
    env = servers.server_env(media_root=tmp_path_factory.mktemp("server-media"), **GENEROUS_LIMITS)
    running = Sites(env, tmp_path_factory.mktemp("server-logs"))
    yield running
    running.stop()


def _site_for_one_test(sites: Sites, shape: str, request):
    failed_before = request.session.testsfailed
    yield sites.get(shape)
    # The test's own outcome is already counted when its fixtures are torn down.
    if request.session.testsfailed > failed_before:
        sites.spoiled(shape)


@pytest.fixture
def make_run_site(sites, request):
    yield from _site_for_one_test(sites, "make run", request)


@pytest.fixture(params=["make run", "production"], ids=["make-run", "production"])
def site(sites, request):
    yield from _site_for_one_test(sites, request.param, request)


# --- People ------------------------------------------------------------------------------------


@dataclass
class Scene:
    """Ada, signed in, with a conversation open on `site`."""

    site: servers.Site
    visitor: servers.Visitor
    conversation_id: int

    def send_to(self, path: str) -> tuple[str, int]:
        return self.site.address_for(path)


def ada_in_a_conversation(site: servers.Site) -> Scene:
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    first = conversation_send(sender=ada, recipients=[bram], text="Dinner on Friday?")
    client = Client()
    client.force_login(ada)
    visitor = servers.Visitor(sessionid=client.cookies["sessionid"].value)
    visitor.csrftoken = servers.csrf_token_for(site.pages.address, visitor)
    return Scene(site=site, visitor=visitor, conversation_id=first.conversation_id)


# --- Requests, and clients that die in the middle of them ---------------------------------------


def stream_call(scene: Scene) -> servers.Call:
    return servers.Call("GET", servers.EVENTS_PATH, scene.visitor.headers())


def typing_call(scene: Scene) -> servers.Call:
    path = f"/messages/{scene.conversation_id}/typing/"
    return servers.Call("POST", path, scene.visitor.headers(post=True))


def send_call(scene: Scene, text: str) -> servers.Call:
    # A fresh idempotency key each time, as each composer render has: every send is a new one.
    body = urlencode({"text": text, "idempotency_key": str(uuid.uuid4())}).encode()
    headers = {
        **scene.visitor.headers(post=True),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return servers.Call("POST", f"/messages/{scene.conversation_id}/send/", headers, body)


def noisy_png() -> bytes:
    """A real 512 x 512 PNG of noise (about 0.8 MB: noise does not compress)."""
    pixels = random.Random(11).randbytes(512 * 512 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (512, 512), pixels).save(buffer, format="PNG")
    return buffer.getvalue()


UPLOAD_BOUNDARY = "pinboard-soak-boundary"


def upload_call(scene: Scene, image: bytes) -> servers.Call:
    """The create-pin form, multipart, as a browser sends it, with a new board."""
    parts = [
        f'--{UPLOAD_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in [
            ("title", "Sunset over the bay"),
            ("description", ""),
            ("source_url", ""),
            ("board", ""),
            ("new_board_name", "Places to go"),
        ]
    ]
    head = "".join(parts) + (
        f"--{UPLOAD_BOUNDARY}\r\nContent-Disposition: form-data; name=image;"
        ' filename="sunset.png"\r\nContent-Type: image/png\r\n\r\n'
    )
    body = head.encode() + image + f"\r\n--{UPLOAD_BOUNDARY}--\r\n".encode()
    headers = {
        **scene.visitor.headers(post=True),
        "Content-Type": f"multipart/form-data; boundary={UPLOAD_BOUNDARY}",
    }
    return servers.Call("POST", "/pins/new/", headers, body)


def die_mid_stream(scene: Scene, i: int):
    # The tab got its stream's headers (it is open and waiting for events), then vanished.
    call = stream_call(scene)
    return partial(servers.die_after_headers, scene.send_to(call.path), call.raw())


def die_mid_typing(scene: Scene, i: int):
    call = typing_call(scene)
    after = OFFSETS[i % len(OFFSETS)]
    return partial(servers.die_after_sending, scene.send_to(call.path), call.raw(), after=after)


def die_mid_send(scene: Scene, i: int):
    call = send_call(scene, f"Message {i} from a phone about to lose its signal")
    after = OFFSETS[i % len(OFFSETS)]
    return partial(servers.die_after_sending, scene.send_to(call.path), call.raw(), after=after)


def die_mid_upload(scene: Scene, i: int, *, upload: servers.Call):
    # The whole upload is declared; only part of it arrives (the form's fields and 4 to 256 KiB
    # of the image) before the phone goes out of range.
    data = upload.raw(sent=600 + 4096 * (1 + i % 64))
    after = OFFSETS[i % len(OFFSETS)]
    return partial(servers.die_after_sending, scene.send_to(upload.path), data, after=after)


# --- What the site holds -----------------------------------------------------------------------


@dataclass
class Holdings:
    connections: int
    threads: int
    rss_kib: int

    def __str__(self) -> str:
        return (
            f"{self.connections} PostgreSQL connections, {self.threads} threads, "
            f"{self.rss_kib / 1024:.0f} MiB resident"
        )


def holdings(site: servers.Site) -> Holdings:
    return Holdings(servers.database_connections(), site.threads(), site.rss_kib())


def settled(site: servers.Site) -> Holdings:
    """What the site holds once it is quiet: the same counts twice in a row, 0.2 s apart (the
    threads of requests just answered take a moment to end)."""
    readings = [holdings(site)]

    def steady() -> bool:
        readings.append(holdings(site))
        before, now = readings[-2:]
        return (before.connections, before.threads) == (now.connections, now.threads)

    servers.wait_for(steady, timeout=3, interval=0.2)
    return readings[-1]


def page_answer(scene: Scene, path: str) -> str:
    """A signed-in, database-backed page, asked once with the liveness timeout: "200", another
    status, or why there was no answer."""
    try:
        status, _, _ = servers.request(
            scene.send_to(path),
            "GET",
            path,
            headers=scene.visitor.headers(),
            timeout=LIVENESS_SECONDS,
        )
    except TimeoutError:
        return f"no answer within {LIVENESS_SECONDS} s"
    except OSError as exc:
        return f"failed: {exc!r}"
    return str(status)


def page_answers(scene: Scene) -> dict[str, str]:
    """The home feed and the inbox, asked at the same time (a hung site costs the liveness
    timeout once, not once a page)."""
    answers: dict[str, str] = {}

    def ask(path: str) -> None:
        answers[path] = page_answer(scene, path)

    servers.run_all([partial(ask, "/"), partial(ask, "/messages/")], workers=2)
    return answers


class SiteDown(Exception):
    pass


def living_visitor(scene: Scene) -> None:
    """Someone still using the site while others' phones die: their inbox must answer."""
    answer = page_answer(scene, "/messages/")
    if answer != "200":
        raise SiteDown(f"a living visitor's GET /messages/ answered: {answer}")


def warm_up(scene: Scene, polite: servers.Call | None) -> None:
    """Open everything a server opens lazily, up to its configured size, so the baseline holds
    it: the stream's LISTEN connection and its read pool (which grows under concurrent
    streams), one connection per page thread (the ASGI server's thread pool, each of gunicorn's
    workers), and whatever the soaked kind of request opens on its first use. The bound that
    matters is that dead clients never take the server past that: a leak would."""
    site = scene.site
    events = site.address_for(servers.EVENTS_PATH)
    stream = stream_call(scene).raw()

    def open_stream() -> None:
        servers.open_and_close(events, stream)

    def page() -> None:
        servers.request(site.pages.address, "GET", "/messages/", headers=scene.visitor.headers())

    # Rounds of more concurrent pages and streams than there are threads and pooled
    # connections, until a round opens no new connection.
    rounds = [servers.database_connections()]

    def no_new_connection() -> bool:
        servers.run_all([open_stream] * 8 + [page] * 16, workers=24)
        rounds.append(servers.database_connections())
        return rounds[-1] == rounds[-2]

    servers.wait_for(no_new_connection, timeout=20, interval=0)
    if polite is not None:
        status, _, _ = servers.request(
            site.address_for(polite.path),
            polite.method,
            polite.path,
            headers=polite.headers,
            body=polite.body,
        )
        assert status in (200, 204), f"a polite {polite.method} {polite.path} answered {status}"


# --- The outage --------------------------------------------------------------------------------


def test_dead_clients_never_take_the_site_down(make_run_site):
    """Issue #11's outage: people open a conversation, type, and their browser dies. On
    `make run`'s server each such death could keep one of the pool's 10 connections for good,
    until every database-backed page waited on the pool. The site must still answer."""
    scene = ada_in_a_conversation(make_run_site)
    typing = typing_call(scene)
    address, data = scene.send_to(typing.path), typing.raw()
    # One after another, each dying at its own point in the server's early work (OFFSETS), with
    # someone still using the site after every 200 deaths. A death hits the leaking window a few
    # times in a hundred (measured here, quiet or loaded), so 800 deaths leak the 10
    # connections with room to spare; the first visitor the site cannot answer ends the test.
    jobs = []
    for _ in range(4):
        jobs += [partial(servers.die_after_sending, address, data, after=o) for o in OFFSETS]
        jobs.append(partial(living_visitor, scene))
    ran, errors = servers.run_all(jobs, workers=1, give_up_after=1)
    deaths = ran - ran // (len(OFFSETS) + 1)
    assert not errors, f"after {deaths} clients died mid-typing: {errors[0]}"

    answers = page_answers(scene)
    assert answers == {"/": "200", "/messages/": "200"}, (
        f"after {deaths} clients died mid-typing, signed-in pages answered {answers}"
    )


# --- Soak: every kind of death, on both server shapes ------------------------------------------

KINDS = ["mid-stream", "mid-typing", "mid-send", "mid-upload"]


@pytest.mark.parametrize("kind", KINDS)
def test_dead_clients_leave_nothing_behind(site, kind):
    """200 clients die mid-request; then pages answer, and within a few seconds the site holds
    no more PostgreSQL connections than before, and its threads and memory are back near
    their baseline."""
    scene = ada_in_a_conversation(site)
    polite = {
        "mid-typing": typing_call(scene),
        "mid-send": send_call(scene, "Made it home"),
    }.get(kind)
    warm_up(scene, polite)
    before = settled(site)

    upload = upload_call(scene, noisy_png()) if kind == "mid-upload" else None
    make = {
        "mid-stream": die_mid_stream,
        "mid-typing": die_mid_typing,
        "mid-send": die_mid_send,
        "mid-upload": lambda scene, i: die_mid_upload(scene, i, upload=upload),
    }[kind]
    # A living visitor every LIVING_EVERY deaths: people keep using the site while others'
    # phones die, and they pace the soak. A client that dies takes no time, but the request it
    # sent may still be worked on: without them, 200 deaths in a second or two queue several
    # seconds of dead work at gunicorn's two sync workers, a backlog that says nothing about
    # what a dead client leaves behind. The first one the site fails to answer ends the soak.
    jobs = []
    for i in range(DEATHS):
        jobs.append(make(scene, i))
        if i % LIVING_EVERY == LIVING_EVERY - 1:
            jobs.append(partial(living_visitor, scene))
    # Streams wait for their headers, so several at once; the others die without waiting, so
    # one after another: more lanes would only pile up dead work faster than the living
    # visitors can pace it.
    lanes = 8 if kind == "mid-stream" else 1
    ran, errors = servers.run_all(jobs, workers=lanes, give_up_after=1)

    site_down = any(isinstance(error, SiteDown) for error in errors)
    # A site that already failed a living visitor is not asked again: it would only cost the
    # liveness timeout twice more to learn the same thing.
    answers = {} if site_down else page_answers(scene)

    def recovered() -> bool:
        now = holdings(site)
        return (
            now.connections <= before.connections
            and now.threads <= before.threads + THREAD_SLACK
            and now.rss_kib <= before.rss_kib + RSS_SLACK_KIB
        )

    waited = 0 if site_down else SETTLE_SECONDS
    servers.wait_for(recovered, timeout=waited, interval=0.2)
    after = holdings(site)

    problems = []
    if errors:
        problems.append(f"the soak stopped after {ran} of {len(jobs)} clients: {errors[0]!r}")
    if not site_down and answers != {"/": "200", "/messages/": "200"}:
        problems.append(f"signed-in pages answered {answers}")
    # Idle pool connections count too: a pool that grew for the dead clients' requests must
    # have shrunk back by now (or have been opened at full size in the warm-up).
    if after.connections > before.connections:
        later = f" {waited} s later" if waited else ""
        problems.append(
            f"{after.connections} PostgreSQL connections{later}, {before.connections} before"
        )
    if after.threads > before.threads + THREAD_SLACK:
        problems.append(f"{after.threads} threads, {before.threads} before (+{THREAD_SLACK} ok)")
    if after.rss_kib > before.rss_kib + RSS_SLACK_KIB:
        problems.append(
            f"{after.rss_kib / 1024:.0f} MiB resident, {before.rss_kib / 1024:.0f} MiB before "
            f"(+{RSS_SLACK_KIB / 1024:.0f} MiB ok)"
        )
    assert not problems, (
        f"after {DEATHS} clients died {kind} on the {site.shape} site:\n  - "
        + "\n  - ".join(problems)
        + f"\n  before: {before}\n  after:  {after}\n{site.log_tail()}"
    )
