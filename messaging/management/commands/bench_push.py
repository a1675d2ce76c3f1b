"""`manage.py bench_push`: send-to-push-request times (p50/p95) through the real task worker."""

from django.core.management.base import BaseCommand

from messaging.management.benchmarks import push as benchmark_push


class Command(BaseCommand):
    help = (
        "Send --messages messages (at --rate a second) into a conversation of --group people, "
        "each away and subscribed at a local push service (127.0.0.1, VAPID checked, payloads "
        "decrypted); a real `db_worker` (polling every --interval seconds) fans them out. "
        "Prints p50/p95/max of the time from each send to each push request reaching the "
        "service, and to each message's last push. Only benchmark users (pushbench...) are "
        "touched; they are deleted afterwards."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--messages", type=int, default=100, metavar="N")
        parser.add_argument("--group", type=int, default=10, metavar="N")
        parser.add_argument("--rate", type=float, default=5.0, metavar="PER_SECOND")
        parser.add_argument("--interval", type=float, default=0.25, metavar="S")
        parser.add_argument("--timeout", type=float, default=120.0, metavar="S")

    def handle(self, *args, **options) -> None:
        result = benchmark_push.run(
            messages=options["messages"],
            group=options["group"],
            rate=options["rate"],
            interval=options["interval"],
            timeout=options["timeout"],
            progress=lambda got, expected: None,
        )
        ms = 1000

        def line(label, values):
            p50 = benchmark_push.percentile(values, 50) * ms
            p95 = benchmark_push.percentile(values, 95) * ms
            worst = (max(values) if values else float("nan")) * ms
            return f"{label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms"

        self.stdout.write(
            f"{result.messages} messages to {options['group'] - 1} people each, "
            f"worker polling every {options['interval']:g} s: "
            f"{len(result.pushes)}/{result.pushes_expected} pushes arrived "
            f"({result.rejected} rejected) in {result.elapsed:.1f} s"
        )
        self.stdout.write(line("send -> push request", result.pushes))
        self.stdout.write(line("send -> a message's last push", result.last_per_message))
