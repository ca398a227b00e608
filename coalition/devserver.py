"""Run the whole product on one machine: `python -m coalition.devserver`.

Starts (or reuses) the embedded PostgreSQL and Redis unless DATABASE_URL and
REDIS_URL are set, migrates, loads the demo coalition with its demo accounts,
then runs the web server and a real Celery worker (with beat) until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    address = os.environ.get("COALITION_ADDRESS", "127.0.0.1:8000")

    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    from coalition.embedded import describe

    # Children reuse the same servers instead of each starting its own.
    os.environ["DATABASE_URL"] = settings.DATABASE_URL
    os.environ["REDIS_URL"] = settings.REDIS_URL
    print(f"PostgreSQL: {describe(settings.DATABASE_URL)}\nRedis: {describe(settings.REDIS_URL)}", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", with_demo_users=True)
    brief_url = queue_demo_brief()

    python = sys.executable
    children = [
        subprocess.Popen([python, "-m", "celery", "-A", "coalition", "worker", "--beat", "--loglevel=INFO",
                          "--concurrency=2", "--schedule", str(settings.LOCAL_DIR / "celerybeat-schedule")]),
        subprocess.Popen([python, "manage.py", "runserver", "--noreload", address]),
    ]
    print(f"\nOpen http://{address}/admin/ (accounts and password in README.md). Ctrl-C stops.", flush=True)
    print(f"The NATO ministerial's brief: http://{address}{brief_url} (as secretariat or analyst)\n", flush=True)

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def queue_demo_brief() -> str:
    """Have the worker compile a brief of the seeded NATO meeting, once; return where to download it."""
    from meetings.demo import NATO_MEETING_TITLE
    from meetings.models import Brief, Meeting
    from meetings.services import brief_request

    meeting = Meeting.objects.get(title=NATO_MEETING_TITLE)
    brief = Brief.objects.filter(meeting=meeting).order_by("-number").first()
    if brief is None:
        brief = brief_request(actor=None, meeting=meeting, system=True)
    return f"/api/v1/briefs/{brief.pk}/pdf"


if __name__ == "__main__":
    sys.exit(main())
