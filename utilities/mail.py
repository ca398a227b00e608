"""Every mail the product sends is made here (`mail_message`), and without a mail server written to files.

- `mail_message` / `subject_line`: a subject is one line whatever went into it. Subjects carry what users typed
  (a meeting's title); a line break there would make Django refuse the whole message (BadHeaderError) and any
  other control character could be folded into a line break on the way, so each becomes a space.
- `EmlFileBackend`: with no EMAIL_URL, every message is written to its own .eml file. Django's file backend
  appends a whole batch to one log file; here each message is one file under `.local/mail/` (EMAIL_FILE_PATH),
  named by time, that any mail program opens. With EMAIL_URL=smtp://... Django's SMTP backend sends through
  that server instead (settings).
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

from utilities.text import without_line_breaks

SUBJECT_LIMIT = 200  # characters: a subject longer than this is cut (a title may be 300)


def subject_line(text: object) -> str:
    """`text` as a mail subject no stored value can break: one line, runs of spaces as one, at most
    SUBJECT_LIMIT characters."""
    line = " ".join(without_line_breaks(text).split())
    return line if len(line) <= SUBJECT_LIMIT else line[:SUBJECT_LIMIT - 1].rstrip() + "…"


def mail_message(*, subject: str, body: str, to: list[str]) -> EmailMessage:
    """A message to send: every mail of the product is made by this, so its subject is always one line."""
    return EmailMessage(subject=subject_line(subject), body=body, to=to)


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
