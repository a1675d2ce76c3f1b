"""`manage.py bench_live`: open event streams and message delivery through one uvicorn process."""

import asyncio
import os
import platform
import shlex
import shutil
import tempfile
from pathlib import Path

import django
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings
from django.utils.crypto import get_random_string

from messaging.management.benchmarks import live as benchmark


class Command(BaseCommand):
    help = (
        "Start one uvicorn process for the app on 127.0.0.1 (DEBUG off), open --streams "
        "server-sent event streams as as many benchmark users (paired in two-person "
        "conversations), send --rate messages per second for --duration seconds through "
        "POST /messages/<id>/send/, and report delivery latency (send request start to the "
        "recipient's stream delivering the event) p50/p95/p99, messages lost and duplicated, "
        "and the server's memory. --restart-db-at restarts PostgreSQL during the run. Everything "
        "stays on loopback and stops by itself; benchmark users are reused between runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--streams", type=int, default=100, metavar="N")
        parser.add_argument("--rate", type=float, default=20.0, metavar="MSGS_PER_S")
        parser.add_argument("--duration", type=float, default=30.0, metavar="S")
        parser.add_argument(
            "--restart-db-at",
            type=float,
            metavar="S",
            help="Restart PostgreSQL this many seconds after sending starts.",
        )
        parser.add_argument(
            "--restart-command",
            metavar="COMMAND",
            help="How to restart PostgreSQL (default: found from the server: pg_ctlcluster "
            "for the machine's cluster, pg_ctl for a project-local one).",
        )
        parser.add_argument("--port", type=int, default=8765, metavar="P")
        parser.add_argument(
            "--pages",
            choices=["uvicorn", "gunicorn"],
            default="uvicorn",
            help="Send messages through the same uvicorn process (default, like `make run`), or "
            "through gunicorn (2 sync workers on port P+1: the production shape, pages on WSGI).",
        )
        parser.add_argument(
            "--event-servers",
            type=int,
            default=1,
            metavar="N",
            help="Event servers (uvicorn processes on ports P … P+N-1, sharing only "
            "PostgreSQL); streams are spread over them and move to another when theirs fails.",
        )
        parser.add_argument(
            "--kill-event-server-at",
            type=float,
            metavar="S",
            help="SIGKILL the first event server this many seconds after sending starts "
            "(needs --event-servers 2 or more): its streams reconnect to the others.",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=5.0,
            metavar="S",
            help="How long after the last send a message may still arrive (default: 5).",
        )
        parser.add_argument(
            "--samples",
            metavar="FILE",
            help="Also write one CSV row per message (time, id, send and delivery ms).",
        )

    def handle(self, *args, streams, rate, duration, restart_db_at, restart_command, port, pages,
               event_servers, kill_event_server_at, grace, samples, **options) -> None:  # fmt: skip
        if not 2 <= streams <= benchmark.LIMITS["streams"]:
            raise CommandError(f"--streams must be 2 to {benchmark.LIMITS['streams']:,}.")
        if streams % 2:
            raise CommandError("--streams must be even (people are paired).")
        if not 0 < rate <= benchmark.LIMITS["rate"]:
            raise CommandError(f"--rate must be above 0 and at most {benchmark.LIMITS['rate']}.")
        if not 0 < duration <= benchmark.LIMITS["duration"]:
            raise CommandError("--duration must be above 0 and at most an hour.")
        if restart_db_at is not None and not 0 <= restart_db_at < duration:
            raise CommandError("--restart-db-at must fall within --duration.")
        if not 1 <= event_servers <= 8:
            raise CommandError("--event-servers must be 1 to 8.")
        if kill_event_server_at is not None and (
            event_servers < 2 or not 0 <= kill_event_server_at < duration
        ):
            raise CommandError(
                "--kill-event-server-at needs --event-servers 2 or more and must fall within "
                "--duration."
            )
        ports = list(range(port, port + event_servers + (pages == "gunicorn")))
        if busy := [p for p in ports if not benchmark.port_is_free(p)]:
            raise CommandError(
                f"Port {busy[0]} is in use on {benchmark.HOST}; pick another --port."
            )

        restart = None
        if restart_db_at is not None:
            try:
                restart = (
                    shlex.split(restart_command) if restart_command else benchmark.restart_command()
                )
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc

        limit = benchmark.raise_open_file_limit(streams * 2 + 1_000)
        if limit < streams + 200:
            raise CommandError(
                f"This process may open only {limit:,} files; {streams:,} streams need more "
                "(raise the hard limit: ulimit -Hn)."
            )
        self.log(f"Open-file limit: {limit:,}. Preparing {streams:,} users ...")
        pairs = benchmark.prepare_people(streams)
        people = [person for pair in pairs for person in pair.people]
        workdir = Path(tempfile.mkdtemp(prefix="bench_live_"))
        secret_key = get_random_string(50)
        with override_settings(SECRET_KEY=secret_key):  # the servers' key signs the sessions
            benchmark.sign_in(people)
        postgres = self._postgres_version()
        connection.close()  # the servers and the restart must not wait for this connection
        servers = [
            benchmark.Server(
                kind=kind, port=p, log=self.log, secret_key=secret_key, workdir=workdir
            )
            for kind, p in zip(
                ["uvicorn"] * event_servers + ["gunicorn"] * (pages == "gunicorn"),
                ports,
                strict=True,
            )
        ]
        try:
            benchmark.Server.collect_static(secret_key=secret_key, workdir=workdir)
            for server in servers:
                server.start()
            run = benchmark.LiveBenchmark(
                pairs=pairs,
                servers=servers[:event_servers],
                pages=servers[-1],
                kill_at=kill_event_server_at,
                rate=rate,
                duration=duration,
                restart_at=restart_db_at,
                restart=restart,
                grace=grace,
                log=self.log,
                open_file_limit=limit,
            )
            result = asyncio.run(run.run())
        except RuntimeError as exc:
            logs = "\n".join(server.log_tail() for server in servers)
            raise CommandError(f"{exc}\n{logs}") from exc
        finally:
            for server in servers:
                server.stop()
            connection.close()
            benchmark.sign_out(people)
            tail = "\n".join(server.log_tail(10) for server in servers)
            shutil.rmtree(workdir, ignore_errors=True)
        self._report(result, postgres=postgres, streams=streams, server_log=tail)
        if samples:
            result.write_samples(samples)

    def log(self, text: str) -> None:
        self.stderr.write(text)

    @staticmethod
    def _postgres_version() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0].split()[0]

    def _report(self, r: benchmark.Result, *, postgres: str, streams: int, server_log: str):
        p = r.percentile
        lat = r.latencies_ms
        write = self.stdout.write
        write("")
        write(
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Django "
            f"{django.get_version()}, PostgreSQL {postgres} at {benchmark.database_label()}; "
            f"{r.event_servers} uvicorn event server(s) (DEBUG off), client in this process; "
            f"open-file limit "
            f"{r.open_file_limit:,}."
        )
        write("")
        write(
            "| Streams held | Messages | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | Lost | "
            "Duplicated | Send failed | Server RSS: idle → with streams (per stream) |"
        )
        write("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        per_stream = f"{r.per_stream_kib:.0f} KiB"
        write(
            f"| {r.streams_held:,} / {r.streams_wanted:,} | {r.sends:,} "
            f"({r.rate:g}/s for {r.duration:g} s) | {p(lat, 50):.0f} | {p(lat, 95):.0f} | "
            f"{p(lat, 99):.0f} | {max(lat, default=float('nan')):.0f} | {r.lost} | "
            f"{r.duplicated} | {r.send_failed} | {r.rss_before_kib / 1024:.0f} → "
            f"{r.rss_streams_kib / 1024:.0f} MiB ({per_stream}) |"
        )
        write("")
        send = r.send_ms
        details = [
            f"Streams: {r.streams_held:,} of {r.streams_wanted:,} open after "
            f"{r.connect_seconds:.1f}s, {r.streams_held_at_end:,} open at the end; "
            f"{r.reconnects:,} reconnects, {r.refused:,} refused or failed attempts.",
            f"Delivered to the recipient: {r.delivered:,} of {r.sends - r.send_failed:,} "
            f"committed messages; the sender's own stream missed {r.echo_lost}.",
            f"Send request (POST, htmx): p50 {p(send, 50):.0f} ms, p95 {p(send, 95):.0f} ms.",
            f"Messages sent through {r.pages}"
            + ("" if r.pages == "uvicorn" else " (2 sync workers; streams on uvicorn)")
            + ".",
            f"CPU while sending: uvicorn {r.cpu['server']:.0%} of a core"
            + ("" if r.pages == "uvicorn" else f", gunicorn {r.cpu['pages']:.0%}")
            + f", this client "
            f"{r.cpu['client']:.0%} of a core, the whole machine {r.cpu['machine']:.0%} busy "
            f"(all cores, everything running). Server RSS at the end "
            f"{r.rss_end_kib / 1024:.0f} MiB (peak {r.hwm_kib / 1024:.0f} MiB), "
            f"{r.threads} threads.",
        ]
        if r.restart:
            details.append(r.restart + ".")
        if r.failures:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(r.failures.items()))
            details.append(f"Send failed: {r.send_failed} ({reasons}).")
        if r.lost_examples:
            details.append("Lost, for example: " + "; ".join(r.lost_examples) + ".")
        for line in details:
            write(f"- {line}")
        if r.lost or r.streams_held < streams:
            write("\nLast lines of the server log:\n" + server_log)
