"""`manage.py bench_push` measures what it says: every push goes through a real worker process
to the local push service, and arrives readable."""

import pytest

from accounts.models import User
from messaging.management.benchmarks import push as benchmark_push
from tests.servers import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_small_run_delivers_every_push_through_the_worker():
    result = benchmark_push.run(
        messages=3,
        group=3,
        rate=20,
        interval=0.2,
        timeout=30,
        progress=lambda got, expected: None,
        database_url=database_url(),
    )

    assert result.pushes_expected == 6
    assert len(result.pushes) == 6  # decrypted, VAPID checked, one per person per message
    assert result.rejected == 0
    assert len(result.last_per_message) == 3
    assert all(0 < seconds < 30 for seconds in result.pushes)
    assert not User.objects.filter(username__startswith=benchmark_push.PREFIX).exists()
