"""The dashboard at `/` and the two pages it links to: thin callers of dashboard.panels and of the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import is_ministry, is_reader
from dashboard.forms import BriefRequestForm, ForcePictureForm
from dashboard.panels import actions_panel, country_panel, force_panel, meetings_panel
from meetings import services as meeting_services
from meetings.selectors import ensure_may_request_brief, last_meeting_before, meetings_visible_to
from pledges.history import ChangesWindow
from pledges.scenarios import NO_ASSUMPTIONS
from pledges.visibility import coalitions_visible_to
from utilities.api import parse_moment
from utilities.languages import BRIEF_LANGUAGES, brief_language_for

CHANGES_PER_PAGE = 100


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Pages in the admin's frame: its header, user tools and look (admin.site.each_context)."""
    return render(request, template, {**admin.site.each_context(request), **context}, status=status)


def _ensure_reader(request: HttpRequest) -> None:
    if not is_reader(request.user):
        raise PermissionDenied(_("Your account has no role that reads the coalition's data; ask an administrator."))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _ensure_reader(request)
    return _dashboard_page(request)


def _dashboard_page(request: HttpRequest, status: int = 200) -> HttpResponse:
    user = request.user
    coalitions = coalitions_visible_to(user).order_by("name")
    form = ForcePictureForm(request.GET or None, coalitions=coalitions)
    coalition = form.value("coalition")
    meetings = meetings_panel(user=user)
    if coalition is None:  # the coalition of the next meeting, else the first
        upcoming = [row.meeting.coalition for row in meetings.rows] if meetings else []
        coalition = upcoming[0] if upcoming else coalitions.first()
    # The scenario's selects name the conditions of the coalition they were drawn for: after choosing another
    # coalition they are dropped, not refused (a link in the API's form, without `conditions_of`, is read as is).
    drawn_for = request.GET.get("conditions_of")
    keeps_scenario = coalition is not None and drawn_for in (None, str(coalition.pk))
    assume = form.settle_assumptions(coalition) if keeps_scenario else NO_ASSUMPTIONS
    return _page(request, "dashboard/index.html", {
        "title": _("Dashboard"),
        "form": form,
        "force": force_panel(user=user, coalition=coalition, as_of=form.moment(), on=form.day(), assume=assume,
                             size_by=request.GET)
        if coalition else None,
        "country": country_panel(user=user) if is_ministry(user) else None,
        "meetings": meetings,
        "actions": actions_panel(user=user),
        "brief_languages": BRIEF_LANGUAGES,
        "brief_language": brief_language_for(translation.get_language()),  # the page's, chosen first
        "is_ministry": is_ministry(user),
    }, status=status)


@login_required
@require_POST
def brief_request(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The secretariat's "compile brief" button: the same service as the API and the admin action. A refusal
    (a language other than English or French) is the dashboard again, with the reason, as a 400."""
    ensure_may_request_brief(request.user)
    meeting = get_object_or_404(meetings_visible_to(request.user), pk=meeting_id)
    form = BriefRequestForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        brief = meeting_services.brief_request(actor=request.user, meeting=meeting,
                                               language=form.cleaned_data["language"] or None)
    except ValidationError as refused:
        for field, errors in refused.message_dict.items():
            for error in errors:
                messages.error(request, _("%(field)s: %(error)s") % {
                    "field": form.fields[field].label if field in form.fields else field, "error": error})
        return _dashboard_page(request, status=400)
    messages.success(request, _("Brief no. %(number)s for %(title)s is queued; it compiles in the background and its "
                                "progress shows below.") % {"number": brief.number, "title": meeting.title})
    return redirect(f"{reverse('dashboard:index')}#meeting-{meeting.pk}")


@login_required
def changes(request: HttpRequest, coalition_id: int) -> HttpResponse:
    """What changed in a coalition since its previous meeting (or since `since`), as the reader may see it."""
    _ensure_reader(request)
    coalition = get_object_or_404(coalitions_visible_to(request.user), pk=coalition_id)
    try:
        if cursor := request.GET.get("cursor"):
            window = ChangesWindow.from_cursor(cursor)
            if window.coalition != coalition.pk:
                raise Http404(_("Not a cursor of this coalition."))
        else:
            window = ChangesWindow.start(since=_since(request, coalition.pk), coalition=coalition)
    except ValidationError as error:
        return _page(request, "dashboard/changes.html", {
            "title": _("Changes in %(name)s") % {"name": coalition.short_name}, "coalition": coalition,
            "error": error.messages[0]},
            status=400)
    page, following = window.page(user=request.user, coalition=coalition, size=CHANGES_PER_PAGE)
    return _page(request, "dashboard/changes.html", {
        "title": _("Changes in %(name)s") % {"name": coalition.short_name}, "coalition": coalition, "window": window,
        "previous_meeting": last_meeting_before(coalition_id=coalition.pk, moment=window.since
                                                + dt.timedelta(microseconds=1)),
        "pledges": page["pledges"], "caveats": page["caveats"], "deliveries": page["deliveries"],
        "next_cursor": following.cursor() if following else None,
    })


def _since(request: HttpRequest, coalition_id: int) -> dt.datetime:
    """`since` as given, else the start of the coalition's previous meeting, else thirty days ago."""
    if text := request.GET.get("since"):
        try:
            return parse_moment(text)  # as the API reads since
        except ValueError:
            raise ValidationError(
                _("since: give a day or a moment, such as 2026-10-01 or 2026-10-01T09:00:00Z.")) from None
    previous = last_meeting_before(coalition_id=coalition_id, moment=timezone.now())
    return previous.starts_at if previous else timezone.now() - dt.timedelta(days=30)
