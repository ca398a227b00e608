"""`?format=csv` exports stream: the rows are read in chunks through a server-side cursor and sent as they are
written, so a web worker's memory does not grow with the export (bench/export.py measures it); the bytes are
those of the list's rows, and an error is still a JSON 400."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from outcomes.api.views import OutcomeViewSet
from pledges.api.serializers import DeliverySerializer
from pledges.api.views import DeliveryCSVRenderer, DeliveryViewSet, PledgeViewSet
from pledges.models import Delivery
from pledges.visibility import deliveries_visible_to
from tests.api.test_query_counts import grow_deliveries, grow_outcomes, grow_pledges
from tests.conftest import World
from tests.http import content_of

EXPORTS = [
    ("/api/v1/pledges/?format=csv", PledgeViewSet, grow_pledges),
    ("/api/v1/deliveries/?format=csv", DeliveryViewSet, grow_deliveries),
    ("/api/v1/outcomes/?format=csv", OutcomeViewSet, grow_outcomes),
]


@pytest.mark.parametrize(("url", "view", "grow"), EXPORTS, ids=[url for url, _, _ in EXPORTS])
def test_an_export_is_streamed_in_chunks_and_holds_every_row_once(
        world: World, client_for: Callable[[str], APIClient], monkeypatch: pytest.MonkeyPatch,
        url: str, view: type, grow: Callable[[World, int], None]) -> None:
    grow(world, 7)
    client = client_for("analyst")
    whole = client.get(url)
    assert whole.streaming
    expected = b"".join(whole.streaming_content)
    table = list(csv.reader(io.StringIO(expected.decode())))
    ids = [row[0] for row in table[1:]]
    assert table[0][0] == "id" and len(ids) >= 7 and len(set(ids)) == len(ids)

    monkeypatch.setattr(view, "csv_chunk_rows", 2)
    chunked = client.get(url)
    pieces = list(chunked.streaming_content)
    assert b"".join(pieces) == expected  # the same bytes, however they are cut
    assert pieces[0] == b",".join(cell.encode() for cell in table[0]) + b"\r\n"  # the header leaves first
    assert len(pieces) == 1 + (len(ids) + 1) // 2  # then one piece per chunk of two rows
    assert chunked["Content-Disposition"].startswith("attachment; filename=")


@pytest.mark.parametrize("url", [url for url, _, _ in EXPORTS])
def test_a_refused_export_is_a_json_400_before_any_row(world: World, client_for: Callable[[str], APIClient],
                                                      url: str) -> None:
    response = client_for("analyst").get(url + "&coalition=not-a-number")
    assert response.status_code == 400 and not response.streaming
    assert "coalition" in response.json()


def test_the_tranche_export_is_what_the_serializer_gives(world: World,
                                                        client_for: Callable[[str], APIClient]) -> None:
    grow_deliveries(world, 9)  # delivered and not, overdue and not, with notes
    first = Delivery.objects.order_by("pk").first()
    assert first is not None
    Delivery.objects.filter(pk=first.pk).update(note='=HYPERLINK("x")\nline')
    client = client_for("analyst")
    expected = DeliveryCSVRenderer().render(DeliverySerializer(
        deliveries_visible_to(world.analyst).order_by("pledge_id", "planned_on", "id"), many=True).data)
    assert content_of(client.get("/api/v1/deliveries/?format=csv")) == expected
