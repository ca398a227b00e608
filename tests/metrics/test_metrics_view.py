"""GET /metrics: who may read it (this machine, not through a proxy we do not trust; or the bearer of the token),
and the figures a request, a brief, an import and a mail leave (utilities.metrics and the apps' metrics)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import World

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client: Client) -> str:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_reads_the_figures(client: Client, address: str) -> None:
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


@pytest.mark.parametrize("address", ["10.0.0.7", "192.168.1.4", "2001:db8::1", "::ffff:10.0.0.7", "", "localhost"])
def test_any_other_address_is_told_nothing_is_there(client: Client, address: str) -> None:
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 404
    assert b"coalition_" not in response.content


@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"])
def test_a_request_forwarded_by_a_proxy_on_this_machine_is_not_from_this_machine(client: Client,
                                                                                 header: str) -> None:
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: "203.0.113.9"}).status_code == 404


def test_a_trusted_proxy_is_believed_about_the_client_it_names(client: Client) -> None:
    with override_settings(TRUSTED_PROXIES=1):
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                          HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200
        # A client's own header before the proxy's entry is not believed.
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                          HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9").status_code == 404


@override_settings(METRICS_TOKEN="s3cret-token-for-the-scraper")
def test_the_bearer_token_opens_it_from_anywhere(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7",
                      HTTP_AUTHORIZATION="Bearer s3cret-token-for-the-scraper").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7",
                      HTTP_AUTHORIZATION="bearer s3cret-token-for-the-scraper").status_code == 200
    for wrong in ("Bearer s3cret", "Bearer ", "Token s3cret-token-for-the-scraper", "s3cret-token-for-the-scraper"):
        assert client.get("/metrics", REMOTE_ADDR="10.0.0.7", HTTP_AUTHORIZATION=wrong).status_code == 404, wrong


def test_no_token_configured_opens_nothing(client: Client) -> None:
    with override_settings(METRICS_TOKEN=""):
        assert client.get("/metrics", REMOTE_ADDR="10.0.0.7", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_requests_are_counted_by_view_name_and_status_never_by_path(client: Client, world: World) -> None:
    before = scrape(client)
    client.force_login(world.analyst)
    for _ in range(3):
        assert client.get(f"/api/v1/pledges/?coalition={world.coalition.pk}").status_code == 200
    assert client.get("/api/v1/pledges/999999999/").status_code == 404
    assert client.get("/no/such/page/zqxw").status_code == 404
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("coalition_http_requests_total", view="pledge-list", method="GET", status="200") == 3
    assert grew("coalition_http_requests_total", view="pledge-detail", method="GET", status="404") == 1
    assert grew("coalition_http_requests_total", view="<unmatched>", method="GET", status="404") == 1
    assert grew("coalition_http_request_duration_seconds_count", view="pledge-list") == 3
    views = {dict(labels).get("view") for _, labels in samples(after)} - {None}
    assert not any("/" in view or "zqxw" in view for view in views), views


def test_every_answer_carries_its_request_id(client: Client) -> None:
    response = client.get("/health/")
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/health/", HTTP_X_REQUEST_ID="lb-abc.123")["X-Request-ID"] == "lb-abc.123"
    assert client.get("/health/", HTTP_X_REQUEST_ID="bad id\nInjected: 1")["X-Request-ID"] != "bad id\nInjected: 1"


def test_scrape_time_figures_queue_lengths_and_data_version(client: Client, world: World) -> None:
    text = scrape(client)
    assert value(text, "coalition_queue_up") == 1
    assert ("coalition_queue_length", (("queue", "imports"),)) in samples(text)
    assert value(text, "coalition_data_version_settled") == 1
    assert value(text, "coalition_data_version", part="pledges") >= 0


def test_redis_down_leaves_the_queue_lengths_out_and_the_rest_in(client: Client, world: World) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        text = scrape(client)
    assert value(text, "coalition_queue_up") == 0
    assert not any(name == "coalition_queue_length" for name, _ in samples(text))
    assert "coalition_http_requests_total" in text
