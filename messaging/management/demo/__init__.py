"""Demo data for development and benchmarks (`manage.py seed_demo`). See seeding.py."""

from messaging.management.demo.conversations import (
    BIG_THREAD_NAME,
    BIG_THREAD_PEOPLE,
    SHOWCASE_CONVERSATIONS,
    SHOWCASE_MESSAGES,
    SeedError,
    group_capacity,
)
from messaging.management.demo.seeding import (
    DEFAULT_BOARDS_PER_USER,
    LARGE_RUN,
    SHOWCASE_PINS,
    SHOWCASE_USERS,
    SeedResult,
    demo_users,
    seed,
)

__all__ = [
    "BIG_THREAD_NAME",
    "BIG_THREAD_PEOPLE",
    "DEFAULT_BOARDS_PER_USER",
    "LARGE_RUN",
    "SHOWCASE_CONVERSATIONS",
    "SHOWCASE_MESSAGES",
    "SHOWCASE_PINS",
    "SHOWCASE_USERS",
    "SeedError",
    "SeedResult",
    "demo_users",
    "group_capacity",
    "seed",
]
