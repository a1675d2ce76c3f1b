"""Fixtures shared by the messaging tests."""

import pytest

from tests.factories import UserFactory
from tests.messaging.access_matrix import build_world


@pytest.fixture
def world(db):
    """The access matrix's people and conversations (tests/messaging/access_matrix.py)."""
    return build_world()


@pytest.fixture
def ada(db):
    """Ada and Bea: the two people of most messaging scenarios (a file may name its own)."""
    return UserFactory(username="ada", display_name="Ada")


@pytest.fixture
def bea(db):
    return UserFactory(username="bea", display_name="Bea")
