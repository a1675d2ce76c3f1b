"""`manage.py bench_notify` runs end to end with tiny numbers (a smoke test, no timings)."""

import io

import pytest
from django.core.management import call_command

from messaging.models import Event, Message
from pinboard.models import Like
from tests.factories import LikeFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the writer processes must see the data


def table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] in ("idle", "none", "rows", "notify", "batch"):
            rows[cells[0]] = cells
    return rows


def test_bench_notify_sends_and_prints_the_table():
    others = MessageFactory(), LikeFactory()  # not the benchmark's: left alone
    out = io.StringIO()
    call_command(
        "bench_notify",
        *("--writers", "2", "--duration", "1", "--rounds", "1"),
        *("--configurations", "none,notify"),
        stdout=out,
    )
    output = out.getvalue()
    assert "| Configuration | Sends/s | Likes/s | Saves/s |" in output
    rows = table_rows(output)
    assert set(rows) == {"none", "notify"}
    sends, heard = 1, -1
    assert float(rows["none"][sends].split()[0]) > 0
    assert float(rows["notify"][sends].split()[0]) > 0
    # The switch works: only the notifying configuration is heard by the listener.
    assert rows["none"][heard] == "0"
    assert float(rows["notify"][heard]) > 0
    # What the benchmark wrote is cleaned up; nothing else is touched.
    assert list(Message.objects.all()) == [others[0]]
    assert list(Like.objects.all()) == [others[1]]
    assert not Event.objects.exists()
