"""Demo data at any size: the hand-made showcase, then generated people, boards, pins and
conversations (conversations.py).

Seeding tops up to the totals asked for and never deletes: it makes what is missing, so running
it again with the same numbers creates nothing. Demo users are `demo1`, `demo2`, ... (all with
settings.DEMO_PASSWORD); `demo1` … `demo5` are the showcase people.

Small things (the showcase) go through the services, like a person's clicks would. Large numbers
go through `bulk_create` in batches: one INSERT per batch of pins, likes, comments or messages.
"""

import io
import os
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.images import NormalizedImage
from accounts.models import Follow, User
from accounts.services import user_follow
from messaging.management.demo import content
from messaging.management.demo.conversations import (
    SHOWCASE_CONVERSATIONS,
    SHOWCASE_MESSAGES,
    ConversationSeeder,
)
from messaging.management.demo.pictures import picture_png
from pinboard import services
from pinboard.images import normalize_pin_upload, pin_image_store
from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin, PinImage

USERNAME_PREFIX = "demo"
USERNAME_PATTERN = rf"^{USERNAME_PREFIX}[0-9]+$"
SHOWCASE_USERS = len(content.SHOWCASE_USERS)
SHOWCASE_PINS = len(content.SHOWCASE_PINS)
DEFAULT_BOARDS_PER_USER = 3
DEFAULT_IMAGES = 24
LARGE_RUN_IMAGES = 48
LARGE_RUN = 10_000  # generated pins from which a run draws LARGE_RUN_IMAGES pictures
BATCH_SIZE = 5_000
HISTORY = timedelta(days=365)  # generated pins are spread over the past year, oldest first

# The signed-in user the benchmark looks at (`bench_pages --user`): enough follows to fill a feed.
FEED_USER = "demo1"
FEED_USER_FOLLOWS = (20, 10)  # people, boards

SECRET_SHARE = 0.1  # of generated boards
GROUP_SHARE = 0.05  # of generated public boards, with 1 or 2 collaborators
SAVE_SHARE = 0.06  # of generated pins: saves of an earlier public pin
SOURCE_SHARE = 0.4  # of generated pins with a source link
COMMENTED_SHARE = 0.12  # of generated public pins, with 1 to 3 comments each
SAVE_SOURCES = 5_000  # how many recent public pins a generated save may come from

Progress = Callable[[str, int, int], None]


@dataclass
class SeedResult:
    """What one run created, and the demo users' total afterwards."""

    users: int = 0
    boards: int = 0
    pins: int = 0
    images: int = 0
    likes: int = 0
    comments: int = 0
    follows: int = 0  # of people and of boards
    conversations: int = 0
    messages: int = 0
    demo_users: int = 0

    @property
    def created_anything(self) -> bool:
        return any(
            (
                self.users,
                self.boards,
                self.pins,
                self.likes,
                self.comments,
                self.follows,
                self.conversations,
                self.messages,
            )
        )


@dataclass
class _BoardInfo:
    pk: int
    owner_id: int
    is_secret: bool
    category: str | None
    pinners: list[int]  # the owner and accepted collaborators


def seed(
    *,
    users: int = SHOWCASE_USERS,
    boards_per_user: int = DEFAULT_BOARDS_PER_USER,
    pins: int = SHOWCASE_PINS,
    conversations: int = SHOWCASE_CONVERSATIONS,
    messages: int = SHOWCASE_MESSAGES,
    big_conversation_messages: int = 0,
    images: int | None = None,
    seed: int = 1,
    progress: Progress | None = None,
) -> SeedResult:
    """Top the demo data up to `users` demo users, `pins` pins of theirs, and `conversations`
    conversations holding `messages` messages, `big_conversation_messages` of them in the big
    thread (see the module doc and conversations.py). The caller checks the numbers (see the
    seed_demo command); conversations.SeedError says when the people are too few for them."""
    return _Seeder(seed=seed, images=images, progress=progress).run(
        users=users,
        boards_per_user=boards_per_user,
        pins=pins,
        conversations=conversations,
        messages=messages,
        big_conversation_messages=big_conversation_messages,
    )


MODERATOR_USERNAME = "moderator"


def demo_users():
    return User.objects.filter(username__regex=USERNAME_PATTERN)


def _username(number: int) -> str:
    return f"{USERNAME_PREFIX}{number}"


def _user_number(username: str) -> int:
    return int(username.removeprefix(USERNAME_PREFIX))


@contextmanager
def _explicit_created_at(*models) -> Iterator[None]:
    """Let generated rows carry their own `created_at` (spread over the past), which
    auto_now_add would otherwise overwrite with the current time."""
    fields = [model._meta.get_field("created_at") for model in models]
    for field in fields:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field in fields:
            field.auto_now_add = True


def _sample_excluding(rng: random.Random, population: list, count: int, excluded: set) -> list:
    """Up to `count` distinct items of `population` that are not in `excluded`."""
    if count <= 0:
        return []
    if len(population) <= 4 * (count + len(excluded)):  # small: list the candidates
        candidates = [item for item in population if item not in excluded]
        return rng.sample(candidates, min(count, len(candidates)))
    chosen: list = []  # large: draw until enough (at least 3/4 of the draws are candidates)
    while len(chosen) < count:
        item = rng.choice(population)
        if item not in excluded and item not in chosen:
            chosen.append(item)
    return chosen


def _normalized_picture(n: int) -> NormalizedImage:
    return normalize_pin_upload(io.BytesIO(picture_png(n)))


class _Palette:
    """Pictures stored once through the real upload pipeline (re-encoding, renditions), then
    shared by many pins, as saves share their original's image."""

    def __init__(self, size: int, result: SeedResult) -> None:
        self.size = size
        self._ids: dict[int, int] = {}
        self._result = result

    def prepare(self, numbers: Iterable[int], progress: Progress | None = None) -> list[int]:
        """Store the pictures with these numbers, if not done yet; return their image ids.

        Drawing and re-encoding (Pillow, which releases the GIL) run in a thread pool; storing,
        which makes the renditions and writes a row, stays on this thread and its connection."""
        numbers = [n % self.size for n in numbers]
        todo = sorted(set(numbers) - self._ids.keys())
        if not todo:
            return [self._ids[n] for n in numbers]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for done, (n, normalized) in enumerate(
                zip(todo, pool.map(_normalized_picture, todo), strict=True), start=1
            ):
                self._ids[n] = pin_image_store(normalized).pk
                self._result.images += 1
                if progress:
                    progress("images", done, len(todo))
        return [self._ids[n] for n in numbers]

    def image_id(self, n: int) -> int:
        return self.prepare([n])[0]


class _Seeder:
    def __init__(self, *, seed: int, images: int | None, progress: Progress | None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.images = images
        self.progress = progress
        self.result = SeedResult()
        self.now = timezone.now()

    def _rng_for(self, *key: object) -> random.Random:
        """A random stream of its own for one decision (e.g. one person's follows), so that a
        top-up run decides the same way whatever else it creates."""
        return random.Random(":".join(map(str, (self.seed, *key))))

    def run(
        self,
        *,
        users: int,
        boards_per_user: int,
        pins: int,
        conversations: int,
        messages: int,
        big_conversation_messages: int,
    ) -> SeedResult:
        people = self._ensure_users(max(users, SHOWCASE_USERS))
        self._ensure_moderator()
        showcase_boards = self._ensure_showcase_social(people)
        self._ensure_generated_boards(people, boards_per_user)
        if len(people) > SHOWCASE_USERS:
            self._ensure_generated_follows(people)

        plan = content.SHOWCASE_PINS[:pins]
        missing = self._missing_showcase_pins(plan, showcase_boards)
        existing = Pin.objects.filter(owner__in=demo_users()).count()
        generated = max(0, pins - existing - len(missing))
        size = self.images or (LARGE_RUN_IMAGES if generated >= LARGE_RUN else DEFAULT_IMAGES)
        palette = _Palette(size, self.result)
        if generated:
            self._generate_pins(generated, palette)
        if missing:
            self._create_showcase_pins(missing, people, showcase_boards, palette)
        if generated >= LARGE_RUN:
            self._refresh_statistics()
        ConversationSeeder(
            seed=self.seed,
            now=self.now,
            users=demo_users(),
            people=people,
            boards=showcase_boards,
            result=self.result,
            progress=self.progress,
        ).run(conversations=conversations, messages=messages, big=big_conversation_messages)
        self.result.demo_users = demo_users().count()
        return self.result

    # --- People -------------------------------------------------------------------------------

    def _ensure_moderator(self) -> None:
        """`moderator`: a staff account for trying the admin (/admin/) on demo data, with a
        verified email because the admin's login is the site's login. Not a demo user: it pins
        and messages nothing."""
        moderator, created = User.objects.get_or_create(
            username=MODERATOR_USERNAME,
            defaults={
                "email": f"{MODERATOR_USERNAME}@example.com",
                "display_name": "Moderator",
                "is_staff": True,
                "is_superuser": True,
                "password": make_password(settings.DEMO_PASSWORD),
            },
        )
        if created:
            EmailAddress.objects.create(
                user=moderator, email=moderator.email, verified=True, primary=True
            )

    def _ensure_users(self, count: int) -> dict[str, User]:
        """demo1 … demo<count>, each with a verified email so they can log in."""
        wanted = [_username(n) for n in range(1, count + 1)]
        existing = {
            user.username.lower(): user
            for user in User.objects.annotate(lower=Lower("username")).filter(lower__in=wanted)
        }
        showcase = {username: (name, bio) for username, name, bio in content.SHOWCASE_USERS}
        new = []
        password = None
        for username in wanted:
            if username in existing:
                continue
            password = password or make_password(settings.DEMO_PASSWORD)  # hashed once: slow
            name, bio = showcase.get(username) or self._generated_profile(username)
            new.append(
                User(
                    username=username,
                    email=f"{username}@example.com",
                    display_name=name,
                    bio=bio,
                    password=password,
                )
            )
        with transaction.atomic():
            User.objects.bulk_create(new, batch_size=BATCH_SIZE)
            EmailAddress.objects.bulk_create(
                [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in new],
                batch_size=BATCH_SIZE,
                ignore_conflicts=True,
            )
        self.result.users = len(new)
        people = {**existing, **{user.username: user for user in new}}
        return {username: people[username] for username in wanted}

    def _generated_profile(self, username: str) -> tuple[str, str]:
        rng = self._rng_for("profile", username)
        name = f"{rng.choice(content.FIRST_NAMES)} {rng.choice(content.LAST_NAMES)}"
        first, second = rng.sample(content.CATEGORIES, 2)
        bio = rng.choice(content.BIO_TEMPLATES).format(
            a=content.INTERESTS[first], b=content.INTERESTS[second]
        )
        return name, bio

    # --- The showcase -------------------------------------------------------------------------

    def _ensure_showcase_social(self, people: dict[str, User]) -> dict[str, Board]:
        """The showcase boards, collaborators and follows, made through the services."""
        boards = {}
        with transaction.atomic():
            for spec in content.SHOWCASE_BOARDS:
                owner = people[spec.owner]
                board = Board.objects.filter(owner=owner, name__iexact=spec.name).first()
                if board is None:
                    board = services.board_create(
                        owner=owner,
                        name=spec.name,
                        description=spec.description,
                        is_secret=spec.is_secret,
                    )
                    self.result.boards += 1
                boards[spec.name] = board
                members = set(board.memberships.values_list("user__username", flat=True))
                for username in (*spec.collaborators, *spec.invited):
                    if username in members:
                        continue
                    membership = services.board_invite(
                        board=board, inviter=owner, invitee=people[username]
                    )
                    if username in spec.collaborators:
                        services.board_invite_respond(membership=membership, accept=True)

            following = set(
                Follow.objects.filter(follower__in=people.values()).values_list(
                    "follower__username", "followee__username"
                )
            )
            for follower, followee in content.SHOWCASE_FOLLOWS:
                if (follower, followee) not in following:
                    user_follow(follower=people[follower], followee=people[followee])
                    self.result.follows += 1
            for username, board_name in content.SHOWCASE_BOARD_FOLLOWS:
                user, board = people[username], boards[board_name]
                if not BoardFollow.objects.filter(user=user, board=board).exists():
                    services.board_follow(user=user, board=board)
                    self.result.follows += 1
        return boards

    def _missing_showcase_pins(
        self, plan: tuple[content.ShowcasePin, ...], boards: dict[str, Board]
    ) -> list[content.ShowcasePin]:
        board_names = {board.pk: name for name, board in boards.items()}
        present = {
            (board_names[board_id], title)
            for board_id, title in Pin.objects.filter(board__in=board_names).values_list(
                "board_id", "title"
            )
        }
        return [spec for spec in plan if (spec.board, spec.title) not in present]

    def _create_showcase_pins(
        self,
        missing: list[content.ShowcasePin],
        people: dict[str, User],
        boards: dict[str, Board],
        palette: _Palette,
    ) -> None:
        originals = [spec for spec in content.SHOWCASE_PINS if not spec.saved_from]
        picture = {spec.title: n for n, spec in enumerate(originals)}
        source_board = {spec.title: spec.board for spec in originals}
        # Store the pictures first: writing files does not belong in the transaction below.
        palette.prepare(picture[spec.title] for spec in missing if not spec.saved_from)
        with transaction.atomic():
            for spec in missing:
                board = boards[spec.board]
                pinner = people[spec.pinner] if spec.pinner else board.owner
                if spec.saved_from:
                    source = (
                        Pin.objects.filter(
                            board=boards[source_board[spec.saved_from]], title=spec.saved_from
                        )
                        .order_by("id")
                        .first()
                    )
                    if source is None:  # deleted since an earlier run: nothing to save
                        continue
                    pin = services.pin_save(user=pinner, pin=source, board=board)
                else:
                    # Pins share the palette's stored images; the pin_create service would store
                    # a new image file for each.
                    pin = Pin.objects.create(
                        owner=pinner,
                        board=board,
                        image_id=palette.image_id(picture[spec.title]),
                        title=spec.title,
                        description=spec.description,
                    )
                self.result.pins += 1
                for author, text in spec.comments:
                    services.comment_create(author=people[author], pin=pin, text=text)
                    self.result.comments += 1
                if not board.is_secret:
                    others = [
                        people[name]
                        for name, *_ in content.SHOWCASE_USERS
                        if people[name].pk != pinner.pk
                    ]
                    rng = self._rng_for("showcase likes", spec.board, spec.title)
                    for liker in rng.sample(others, rng.choice((0, 1, 1, 2, 3))):
                        services.pin_like(user=liker, pin=pin)
                        self.result.likes += 1

    # --- Generated boards and follows ---------------------------------------------------------

    def _ensure_generated_boards(self, people: dict[str, User], boards_per_user: int) -> None:
        """Every generated user (demo6 and up) owns at least `boards_per_user` boards."""
        generated = [u for name, u in people.items() if _user_number(name) > SHOWCASE_USERS]
        if not generated:
            return
        taken = defaultdict(set)
        for owner_id, name in Board.objects.filter(owner__in=generated).values_list(
            "owner_id", Lower("name")
        ):
            taken[owner_id].add(name)
        new_boards = []
        for user in generated:
            missing = boards_per_user - len(taken[user.pk])
            if missing <= 0:
                continue
            rng = self._rng_for("boards", user.username)
            for name, category in self._board_names(rng, taken[user.pk], missing):
                new_boards.append(
                    Board(
                        owner=user,
                        name=name,
                        description=rng.choice(content.DESCRIPTIONS[category])
                        if rng.random() < 0.3
                        else "",
                        is_secret=rng.random() < SECRET_SHARE,
                    )
                )
        candidates = list(people.values())
        members = []
        with transaction.atomic():
            Board.objects.bulk_create(new_boards, batch_size=BATCH_SIZE)
            for board in new_boards:
                if board.is_secret or self.rng.random() >= GROUP_SHARE:
                    continue
                others = [u for u in self.rng.sample(candidates, 3) if u.pk != board.owner_id]
                for user in others[: self.rng.choice((1, 2))]:
                    members.append(
                        BoardMember(
                            board=board,
                            user=user,
                            status=BoardMember.Status.ACCEPTED,
                            invited_by_id=board.owner_id,
                        )
                    )
            BoardMember.objects.bulk_create(members, ignore_conflicts=True)
        self.result.boards += len(new_boards)

    @staticmethod
    def _board_names(rng: random.Random, taken: set[str], count: int) -> list[tuple[str, str]]:
        """`count` board names the person doesn't have yet, mostly from two favourite topics."""
        favourites = rng.sample(content.CATEGORIES, 2)
        head = [(name, c) for c in favourites for name in content.BOARD_NAMES[c]]
        tail = [
            (name, c)
            for c in content.CATEGORIES
            if c not in favourites
            for name in content.BOARD_NAMES[c]
        ]
        rng.shuffle(head)
        rng.shuffle(tail)
        chosen = []
        for name, category in head + tail:
            if len(chosen) == count:
                return chosen
            if name.lower() not in taken:
                taken.add(name.lower())
                chosen.append((name, category))
        number = 1
        while len(chosen) < count:  # more boards than names: "Ideas 1", "Ideas 2", ...
            name = f"Ideas {number}"
            if name.lower() not in taken:
                taken.add(name.lower())
                chosen.append((name, rng.choice(content.CATEGORIES)))
            number += 1
        return chosen

    def _ensure_generated_follows(self, people: dict[str, User]) -> None:
        """Each demo user follows 5 to 30 people and up to 8 boards (FEED_USER: 20 and 10)."""
        everyone = [user.pk for user in people.values()]
        following = defaultdict(set)
        for follower, followee in Follow.objects.filter(follower__in=everyone).values_list(
            "follower_id", "followee_id"
        ):
            following[follower].add(followee)
        board_follows = defaultdict(set)
        for user_id, board_id in BoardFollow.objects.filter(user__in=everyone).values_list(
            "user_id", "board_id"
        ):
            board_follows[user_id].add(board_id)
        public_boards, own_boards = [], defaultdict(set)
        for pk, owner_id in Board.objects.filter(owner__in=everyone, is_secret=False).values_list(
            "pk", "owner_id"
        ):
            public_boards.append(pk)
            own_boards[owner_id].add(pk)
        new_follows, new_board_follows = [], []
        for user in people.values():
            rng = self._rng_for("follows", user.username)
            if user.username == FEED_USER:
                people_target, boards_target = FEED_USER_FOLLOWS
            else:
                people_target, boards_target = rng.randint(5, 30), rng.randint(0, 8)
            followed = following[user.pk]
            for followee in _sample_excluding(
                rng, everyone, people_target - len(followed), followed | {user.pk}
            ):
                new_follows.append(Follow(follower_id=user.pk, followee_id=followee))
            followed = board_follows[user.pk]
            for board in _sample_excluding(
                rng, public_boards, boards_target - len(followed), followed | own_boards[user.pk]
            ):
                new_board_follows.append(BoardFollow(user_id=user.pk, board_id=board))
        with transaction.atomic():
            Follow.objects.bulk_create(new_follows, batch_size=BATCH_SIZE, ignore_conflicts=True)
            BoardFollow.objects.bulk_create(
                new_board_follows, batch_size=BATCH_SIZE, ignore_conflicts=True
            )
        self.result.follows += len(new_follows) + len(new_board_follows)

    # --- Generated pins -----------------------------------------------------------------------

    def _generate_pins(self, count: int, palette: _Palette) -> None:
        """`count` pins on the demo users' boards, oldest first (ids grow with time, as the feed
        expects), with likes, comments and saves, in batches of BATCH_SIZE."""
        image_ids = palette.prepare(range(palette.size), self.progress)
        boards = self._pin_targets()
        if not boards:
            return
        weights = self._board_weights(boards)
        user_ids = list(demo_users().values_list("pk", flat=True))
        sources = list(
            Pin.objects.filter(owner_id__in=user_ids, board__is_secret=False)
            .order_by("-id")
            .values_list("pk", "image_id", "title", "description", "source_url")[:SAVE_SOURCES]
        )
        latest = Pin.objects.order_by("-id").values_list("created_at", flat=True).first()
        start = max(self.now - HISTORY, latest or self.now - HISTORY)
        step = (self.now - start) / count
        done = 0
        while done < count:
            size = min(BATCH_SIZE, count - done)
            times = [start + step * (done + i) for i in range(size)]
            with transaction.atomic(), _explicit_created_at(Pin, Like, Comment):
                batch = self._pin_batch(
                    self.rng.choices(boards, weights, k=size), times, image_ids, sources
                )
                Pin.objects.bulk_create(batch)
                public = [pin for pin in batch if pin.public]
                self._interact(public, user_ids)
                for pin in public:
                    if pin.saved_from_id is None:
                        row = (pin.pk, pin.image_id, pin.title, pin.description, pin.source_url)
                        if len(sources) < SAVE_SOURCES:
                            sources.append(row)
                        else:
                            sources[self.rng.randrange(SAVE_SOURCES)] = row
            done += size
            self.result.pins += size
            if self.progress:
                self.progress("pins", done, count)

    def _pin_targets(self) -> list[_BoardInfo]:
        board_rows = Board.objects.filter(owner__in=demo_users()).values_list(
            "pk", "owner_id", "is_secret", "name"
        )
        collaborators = defaultdict(list)
        for board_id, user_id in BoardMember.objects.filter(
            board__owner__in=demo_users(), status=BoardMember.Status.ACCEPTED
        ).values_list("board_id", "user_id"):
            collaborators[board_id].append(user_id)
        categories = {name: c for c, names in content.BOARD_NAMES.items() for name in names}
        categories.update((spec.name, spec.category) for spec in content.SHOWCASE_BOARDS)
        return [
            _BoardInfo(
                pk, owner_id, is_secret, categories.get(name), [owner_id, *collaborators[pk]]
            )
            for pk, owner_id, is_secret, name in board_rows
        ]

    def _board_weights(self, boards: list[_BoardInfo]) -> list[float]:
        """Some people pin a lot, most a little (a Pareto distribution, capped)."""
        activity = {}
        for board in boards:
            if board.owner_id not in activity:
                activity[board.owner_id] = min(self.rng.paretovariate(1.2), 50.0)
        return [activity[board.owner_id] * self.rng.uniform(0.3, 1.7) for board in boards]

    def _pin_batch(
        self,
        boards: list[_BoardInfo],
        times: list[datetime],
        image_ids: list[int],
        sources: list[tuple],
    ) -> list[Pin]:
        rng = self.rng
        batch = []
        for board, created_at in zip(boards, times, strict=True):
            pinner = rng.choice(board.pinners)
            if sources and rng.random() < SAVE_SHARE:
                source_id, image_id, title, description, source_url = rng.choice(sources)
                pin = Pin(
                    saved_from_id=source_id,
                    image_id=image_id,
                    title=title,
                    description=description,
                    source_url=source_url,
                )
            else:
                category = board.category or rng.choice(content.CATEGORIES)
                words, things = content.TITLE_WORDS[category]
                title = f"{rng.choice(words)} {rng.choice(things)}"
                description = ""
                if rng.random() < 0.6:
                    description = rng.choice(content.DESCRIPTIONS[category])
                source_url = ""
                if rng.random() < SOURCE_SHARE:
                    slug = re.sub(r"[^a-z0-9]+", "-", title.lower())
                    source_url = f"https://{rng.choice(content.SOURCE_SITES)}/{slug}"
                pin = Pin(
                    image_id=rng.choice(image_ids),
                    title=title,
                    description=description,
                    source_url=source_url,
                )
            pin.owner_id = pinner
            pin.board_id = board.pk
            pin.created_at = created_at
            pin.public = not board.is_secret  # for the likes below; not a field
            batch.append(pin)
        return batch

    def _interact(self, pins: list[Pin], user_ids: list[int]) -> None:
        """Likes (most pins get none or a few, some get many) and a few comments, all made after
        the pin, on public pins only (anyone may see those)."""
        rng = self.rng
        likes, comments = [], []
        for pin in pins:
            later = self.now - pin.created_at
            roll = rng.random()
            count = (
                0
                if roll < 0.45
                else 1
                if roll < 0.75
                else rng.randint(2, 4)
                if roll < 0.9
                else rng.randint(5, 15)
                if roll < 0.98
                else rng.randint(20, 60)
            )
            likers = [
                u for u in rng.sample(user_ids, min(count + 1, len(user_ids))) if u != pin.owner_id
            ][:count]
            for user_id in likers:
                when = pin.created_at + later * rng.random() ** 2
                likes.append(Like(user_id=user_id, pin_id=pin.pk, created_at=when))
            if rng.random() < COMMENTED_SHARE:
                times = sorted(rng.random() ** 2 for _ in range(rng.randint(1, 3)))
                for fraction in times:
                    comments.append(
                        Comment(
                            pin_id=pin.pk,
                            author_id=rng.choice(user_ids),
                            text=rng.choice(content.COMMENTS),
                            created_at=pin.created_at + later * fraction,
                        )
                    )
        Like.objects.bulk_create(likes, batch_size=BATCH_SIZE, ignore_conflicts=True)
        Comment.objects.bulk_create(comments, batch_size=BATCH_SIZE)
        self.result.likes += len(likes)
        self.result.comments += len(comments)

    @staticmethod
    def _refresh_statistics() -> None:
        """Fresh planner statistics (and, outside a transaction, a visibility map for index-only
        scans) after a large load, rather than waiting for autovacuum."""
        models = (
            User,
            EmailAddress,
            Follow,
            Board,
            BoardMember,
            BoardFollow,
            PinImage,
            Pin,
            Like,
            Comment,
        )
        tables = [model._meta.db_table for model in models]
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{verb} {connection.ops.quote_name(table)}")
