"""The POST forms a page has, read from its HTML as a browser would, and bodies that carry any text.

`post_forms(html, page)` gives each `<form method="post">` with its action and its fields (inputs, selects with
their options, textareas, file inputs) and the values a browser would send untouched. `encode` builds the
request body itself, so that values no browser sends (NUL, lone surrogates as the invalid UTF-8 they arrive as,
megabytes) reach the server as they would from a hostile client.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urljoin

UNCHECKABLE = ("checkbox", "radio")
NOT_SENT = ("submit", "button", "reset", "image")


@dataclass
class Field:
    name: str
    kind: str  # the input's type, "select", "select-multiple" or "textarea"
    options: list[str] = field(default_factory=list)  # a select's option values (or a radio group's)
    value: list[str] = field(default_factory=list)  # what a browser sends as it stands


@dataclass
class Form:
    page: str
    action: str
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons: (name, value)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """Two forms with the same action and fields are one form (the language switch is on every page)."""
        return self.action, tuple(sorted(self.fields))

    def defaults(self) -> dict[str, list[str]]:
        return {name: list(f.value) for name, f in self.fields.items() if f.kind != "file"}


class _Reader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.chosen: list[str] = []
        self.option: tuple[str | None, bool] | None = None  # (its value attribute, selected) while open
        self.option_text = ""
        self.textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self.form = Form(page=self.page, action=urljoin(self.page, a.get("action") or self.page),
                                 multipart="multipart" in a.get("enctype", ""))
                self.forms.append(self.form)
            return
        if self.form is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in NOT_SENT:
                self.form.buttons.append((name, a.get("value", "")))
                return
            existing = self.form.fields.setdefault(name, Field(name, kind))
            if kind in UNCHECKABLE:
                existing.options.append(a.get("value", "on"))
                if "checked" in a:
                    existing.value.append(a.get("value", "on"))
            elif kind != "file":
                existing.value.append(a.get("value", ""))
        elif tag == "select" and name:
            self.select = self.form.fields.setdefault(
                name, Field(name, "select-multiple" if "multiple" in a else "select"))
            self.chosen = []
        elif tag == "option" and self.select is not None:
            self._close_option()
            self.option = (a["value"] if "value" in a else None, "selected" in a)
            self.option_text = ""
        elif tag == "textarea" and name:
            self.textarea = self.form.fields.setdefault(name, Field(name, "textarea", value=[""]))

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option_text += data
        if self.textarea is not None:
            self.textarea.value[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._close_option()
        elif tag == "select" and self.select is not None:
            self._close_option()
            if not self.chosen and self.select.kind == "select" and self.select.options:
                self.chosen = [self.select.options[0]]  # a browser sends the first option
            self.select.value = self.chosen
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            if self.textarea.value[-1].startswith("\n"):
                self.textarea.value[-1] = self.textarea.value[-1][1:]  # as browsers drop it
            self.textarea = None
        elif tag == "form":
            self.form = None

    def _close_option(self) -> None:
        if self.option is None or self.select is None:
            return
        value, selected = self.option
        value = self.option_text.strip() if value is None else value
        self.select.options.append(value)
        if selected:
            self.chosen.append(value)
        self.option = None


def post_forms(html: str, page: str) -> list[Form]:
    reader = _Reader(page)
    reader.feed(html)
    reader.close()
    return reader.forms


def _bytes(value: str) -> bytes:
    # A lone surrogate arrives as the bytes a broken client sends for it: invalid UTF-8.
    return value.encode("utf-8", "surrogatepass")


def encode(data: dict[str, list[str]], files: dict[str, tuple[str, bytes]] | None = None,
           multipart: bool = False) -> tuple[bytes, str]:
    """The request body and its content type."""
    if not multipart and not files:
        body = "&".join(f"{quote(_bytes(name))}={quote(_bytes(value))}" for name, values in data.items()
                        for value in values)
        return body.encode("ascii"), "application/x-www-form-urlencoded"
    boundary = uuid.uuid4().hex
    parts = []
    for name, values in data.items():
        for value in values:
            parts.append(b'--' + boundary.encode() + b'\r\nContent-Disposition: form-data; name="'
                         + _bytes(name) + b'"\r\n\r\n' + _bytes(value) + b"\r\n")
    for name, (filename, content) in (files or {}).items():
        parts.append(b'--' + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + _bytes(name)
                     + b'"; filename="' + _bytes(filename) + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     + content + b"\r\n")
    return b"".join(parts) + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"
