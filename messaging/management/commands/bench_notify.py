"""`manage.py bench_notify`: message sends per second with and without publishing (NOTIFY)."""

import os
import platform

import django
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings

from messaging.management.benchmarks import notify as benchmark_notify


class Command(BaseCommand):
    help = (
        "Run --writers sender processes calling messaging.services.message_send (each into its "
        "own conversation of --group-size people), one liker and one saver process beside them "
        "and one LISTEN connection, for --duration seconds (after a 1 s warm-up), in each "
        "--configurations: idle (no senders), none (no publishing), rows (event rows, no "
        "NOTIFY), notify (what the services do: recipients, rows and NOTIFY in one statement), "
        "orm (the previous way: a recipient query, a bulk insert, a NOTIFY), batch (rows, and "
        "one notifier process that NOTIFYs once per batch). Configurations alternate, "
        "--rounds times each; prints "
        "the median (and min-max) of each rate, the median p50/p99 of a send's service "
        "time and the CPU a send used (sender and its PostgreSQL backend, when local). Only "
        "benchmark users (notifybench...) are touched. DEBUG is off."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--writers", type=int, default=4, metavar="N")
        parser.add_argument("--group-size", type=int, default=2, metavar="N")
        parser.add_argument("--duration", type=float, default=10.0, metavar="S")
        parser.add_argument("--rounds", type=int, default=3, metavar="N")
        parser.add_argument(
            "--configurations",
            default="idle,none,rows,notify,orm",
            metavar="NAMES",
            help="Comma-separated, from: " + ", ".join(benchmark_notify.CONFIGURATIONS),
        )

    def handle(self, *args, writers, group_size, duration, rounds, configurations, **options):
        names = [name.strip() for name in configurations.split(",") if name.strip()]
        unknown = sorted(set(names) - set(benchmark_notify.CONFIGURATIONS))
        if unknown or not names:
            raise CommandError(f"Unknown configurations: {', '.join(unknown) or '(none)'}.")
        if writers < 1 or not 2 <= group_size <= 10 or duration <= 0 or rounds < 1:
            raise CommandError(
                "Need --writers >= 1, --group-size from 2 to 10, --duration > 0, --rounds >= 1."
            )
        load = os.getloadavg()[0]
        with override_settings(DEBUG=False):
            try:
                rows = benchmark_notify.benchmark(
                    writers=writers,
                    group_size=group_size,
                    duration=duration,
                    rounds=rounds,
                    configurations=names,
                )
            except RuntimeError as error:
                raise CommandError(f"A benchmark process failed: {error}") from error
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgres = cursor.fetchone()[0].split()[0]
        self.stdout.write(
            f"{writers} sender processes, {group_size}-person conversations, 1 liker, 1 saver, "
            f"1 listener; {duration:g} s counted after a {benchmark_notify.WARMUP:g} s warm-up, "
            f"{rounds} round(s), configurations alternating. {os.cpu_count()} CPUs (load "
            f"average {load:.1f} before, {os.getloadavg()[0]:.1f} after), Python "
            f"{platform.python_version()}, Django {django.get_version()}, PostgreSQL {postgres}."
        )
        self.stdout.write("")
        for line in benchmark_notify.table(rows):
            self.stdout.write(line)
