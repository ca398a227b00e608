"""Mail without a mail server: with no EMAIL_URL, every message is written to its own .eml file.

Django's file backend appends a whole batch to one log file; here each message is one file under
`.local/mail/` (EMAIL_FILE_PATH), named by time, that any mail program opens. With EMAIL_URL=smtp://...
Django's SMTP backend sends through that server instead (settings).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            (self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(message.message().as_bytes())
            sent += 1
        return sent
