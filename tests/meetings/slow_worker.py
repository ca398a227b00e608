"""`python -m tests.meetings.slow_worker SECONDS ARGS...`: `celery ARGS...` whose every brief compile first waits
SECONDS, its brief claimed and beating, so that a test can kill or restart the worker mid-compile.

The product has no such hook: the wait is patched into the compile's first step (building the snapshot) here,
before Celery starts.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def main() -> None:
    delay, celery_arguments = float(sys.argv[1]), sys.argv[2:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
    import django

    django.setup()
    from meetings.briefs import snapshot

    build_snapshot = snapshot.build_snapshot

    def slow_build_snapshot(*args: Any, **kwargs: Any) -> Any:
        time.sleep(delay)
        return build_snapshot(*args, **kwargs)

    snapshot.build_snapshot = slow_build_snapshot  # read by the pipeline at each compile
    from celery.__main__ import main as celery

    sys.argv = ["celery", *celery_arguments]
    celery()


if __name__ == "__main__":
    main()
