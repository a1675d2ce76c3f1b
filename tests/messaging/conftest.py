"""Fixtures shared by the messaging tests."""

import pytest

from tests.messaging.access_matrix import build_world


@pytest.fixture
def world(db):
    """The access matrix's people and conversations (tests/messaging/access_matrix.py)."""
    return build_world()
