"""The benchmarks behind the management commands: live.py (`manage.py bench_live`: live-update
delivery through real servers) and notify.py (`manage.py bench_notify`: what publishing live
events costs a send). Development tools, not part of the site; they live in messaging because
they use every app."""
