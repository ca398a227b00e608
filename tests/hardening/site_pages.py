"""Every page of the site, as each role may see it: the routes of the URL conf outside the API and every URL of
every ModelAdmin in the admin site's registry (changelists, add and change forms, history and delete pages, the
import pages), each with a real object where the URL names one. Found, not listed: a new route or ModelAdmin is
walked without being named here, and a URL whose parameter this module cannot fill fails the walk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from imports import services as import_services
from imports.template import template_xlsx
from meetings import services as meeting_services
from meetings.briefs import pipeline
from places.services import place_add
from pledges.models import Pledge
from tests.conftest import World
from tests.dashboard.conftest import Scene, build_scene

ROLES = ("admin", "secretariat", "ministry_pl", "analyst")
SKIPPED_ROUTES = ("api/v1/",)  # the API: its own fuzzers (schemathesis, the filter property tests)


@dataclass
class Things:
    """What the URLs name: a real object of every model where there is one."""

    world: World
    scene: Scene
    xlsx: bytes
    by_name: dict[str, list[str]] = field(default_factory=dict)


def build_things(world: World) -> Things:
    scene = build_scene(world)
    brief = meeting_services.brief_request(actor=world.secretariat, meeting=scene.meeting, queue=False)
    pipeline.brief_compile(brief_id=brief.pk)
    place_add(actor=world.admin, name="Rzeszów air base", country_code="PL", latitude=50.1, longitude=22.0)
    Group.objects.create(name="Desk officers")
    xlsx = template_xlsx(user=world.ministry_pl, coalition=world.coalition)
    import_services.import_preview(actor=world.ministry_pl, coalition=world.coalition, filename="poland.xlsx",
                                   data=xlsx)
    return Things(world=world, scene=scene, xlsx=xlsx, by_name={
        "meeting_id": [str(scene.meeting.pk)], "coalition_id": [str(world.coalition.pk)],
        "extension": ["pdf", "xlsx"], "app_label": sorted({m._meta.app_label for m in admin.site._registry}),
        "content_type_id": [str(ContentType.objects.get_for_model(Pledge).pk)],
        "object_id": [str(scene.pl_confirmed.pk)],
    })


def _fill(route: str, converters: dict[str, Any], values: dict[str, list[str]]) -> Iterator[str]:
    """Each concrete path of a route (`meetings/<int:meeting_id>/briefs/`), from the values known for its names."""
    paths = [route]
    for name in converters:
        assert name in values, f"no value known for <{name}> in {route!r}: tell this test what to put there"
        paths = [re.sub(rf"<(\w+:)?{name}>", v, p) for p in paths for v in values[name]]
    yield from dict.fromkeys(paths)


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(SKIPPED_ROUTES) or route.startswith("admin/"):
            continue  # the admin is walked from its registry (below)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.pattern.converters


def site_paths(things: Things) -> list[str]:
    """Every page of the URL conf outside the API and the admin."""
    return [f"/{path}" for route, converters in _routes(get_resolver().url_patterns)
            for path in _fill(route, converters, things.by_name)]


def admin_paths(user: Any, things: Things) -> list[str]:
    """Every URL of the admin site and of every ModelAdmin it has, for one user: objects they may see."""
    request = RequestFactory().get("/admin/")
    request.user = user
    paths = [f"/admin/{label}/" for label in things.by_name["app_label"]]  # the app pages (a regex route)
    for entry in admin.site.get_urls():
        if isinstance(entry, URLPattern) and isinstance(entry.pattern, RoutePattern):
            paths += ["/admin/" + path for path in _fill(str(entry.pattern), entry.pattern.converters,
                                                          things.by_name)]
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_module_permission(request) and not model_admin.has_view_permission(request):
            continue
        shown = model_admin.get_queryset(request).order_by("pk").values_list("pk", flat=True)[:1]
        ids = [str(pk) for pk in shown]
        values = {**things.by_name, "object_id": ids, "pk": ids, "id": ids}
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.get_urls():
            route = str(pattern.pattern)
            if isinstance(pattern, URLPattern) and "<path:object_id>/" == route:
                continue  # Django's old-style redirect to .../change/
            paths += [base + path for path in _fill(route, pattern.pattern.converters, values)]
    return list(dict.fromkeys(paths))
