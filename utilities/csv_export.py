"""`?format=csv` on an API list: every matching row, streamed as it is read.

An export grows with the data (90,000 pledges are 21.6 MB of CSV). Built in memory, the whole answer sat in the
web worker at once (it grew from 86 to 338 MB for one export); streamed, rows come from a server-side cursor in
chunks of CHUNK_ROWS and go out as they are written, so a worker's memory stays flat whatever the size and the
first byte leaves at once. A list view mixes in `CSVListMixin` and names its `csv_renderer_class`; a view
whose rows are not its serializer's (the pledge list reads values_list() rows) overrides `csv_rows`.

Errors are JSON, even for `?format=csv`: they are found before the first byte (the filters and the query
parameters are read when the response is made, the rows only as it is sent).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, ClassVar, cast

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

# Cells a spreadsheet would run as a formula start with one of these; they go out behind a single quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000  # rows fetched from the cursor, and written out, at a time


def in_chunks(rows: Iterable[Any], size: int = CHUNK_ROWS) -> Iterator[list[Any]]:
    """`rows` in lists of at most `size` (itertools.batched, which Python 3.11 lacks)."""
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def pop(out: io.StringIO) -> bytes:
    """What was written to `out`, encoded; `out` is emptied."""
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text.encode("utf-8")


class CSVRenderer(BaseRenderer):
    """Rows (dicts) as CSV, columns in `columns` order; cells that a spreadsheet would run as a formula (starting
    with = + - @, a tab or a carriage return) are prefixed with a single quote."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    columns: tuple[str, ...] = ()

    @staticmethod
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value)
        if isinstance(value, str) and text.startswith(FORMULA_STARTS):
            return "'" + text
        return text

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        return [row.get(column) for column in self.columns]

    def lines(self, chunks: Iterable[Iterable[Mapping[str, Any]]]) -> Iterator[bytes]:
        """The header, then each chunk of rows, encoded: what is streamed, and what render() joins."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        yield pop(out)  # the header leaves before the first rows are read
        for rows in chunks:
            for row in rows:
                writer.writerow([self.cell(value) for value in self.values(row)])
            yield pop(out)

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        rows = data if isinstance(data, list) else (data or {}).get("results", [])
        return b"".join(self.lines([rows]))


class CSVListMixin:
    """A list that also answers `?format=csv`: every matching row (no pages), streamed; errors stay JSON."""

    csv_renderer_class: ClassVar[type[CSVRenderer]]
    csv_filename: ClassVar[str]
    csv_chunk_rows: ClassVar[int] = CHUNK_ROWS
    json_renderer_class: ClassVar[type[JSONRenderer]] = JSONRenderer

    def get_renderers(self) -> list[BaseRenderer]:
        if getattr(self, "action", None) == "list":
            return [self.json_renderer_class(), self.csv_renderer_class()]
        return [self.json_renderer_class()]

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        request = cast(Any, self).request
        request.accepted_renderer = JSONRenderer()  # errors are JSON, even for ?format=csv
        request.accepted_media_type = JSONRenderer.media_type
        return response

    def is_csv(self) -> bool:
        renderer = getattr(cast(Any, self).request, "accepted_renderer", None)
        return renderer is not None and renderer.format == "csv"

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        return None if self.is_csv() else super().paginate_queryset(queryset)  # type: ignore[misc]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:  # a Response, or the streamed CSV
        if not self.is_csv():
            return super().list(request, *args, **kwargs)  # type: ignore[misc]
        return self.csv_response(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]

    def csv_rows(self, queryset: QuerySet[Any]) -> Iterator[Iterable[Mapping[str, Any]]]:
        """The rows in chunks, read through a server-side cursor, as the list's serializer gives them."""
        size = self.csv_chunk_rows
        for chunk in in_chunks(queryset.iterator(chunk_size=size), size):
            yield self.get_serializer(chunk, many=True).data  # type: ignore[attr-defined]

    def csv_response(self, queryset: QuerySet[Any]) -> StreamingHttpResponse:
        renderer = self.csv_renderer_class()
        response = StreamingHttpResponse(renderer.lines(self.csv_rows(queryset)),
                                         content_type=f"{renderer.media_type}; charset={renderer.charset}")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
        return response
