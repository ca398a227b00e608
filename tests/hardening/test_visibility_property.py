"""Nothing shown was invisible to its reader when it was current: a property over random histories.

Hypothesis writes a random history through the services (several countries create, offer, confirm, edit
texts, change releasability, add, edit and lift caveats, withdraw, delete drafts), each write committed on
its own so that history has real moments. An oracle in plain Python keeps every state the coalition passed
through and decides, by the rule in DESIGN.md, what each reader could see in each state. Then every read
path that shows current or past data is asked, as every role:

- the API: pledge list (JSON and CSV), pledge detail, caveat list and detail, as of past moments, the
  changes between two moments, the force totals as of a moment;
- the admin: pledge and caveat changelists and change pages, their history pages, and the raw events screen;
- the brief's snapshot (the data a PDF and XLSX are made from) as of a moment, with changes since a meeting.

Every text a write puts in carries a unique token; a token on a page must belong to a version the reader
could see when it was current. Structured answers (rows, changes, totals) must equal what the oracle says
the reader could see at that moment.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import User
from meetings.briefs.snapshot import build_snapshot
from meetings.models import Brief, Meeting
from places.models import Place
from pledges import services
from pledges.models import Caveat, Coalition, Delivery, Pledge
from tests.conftest import World
from tests.factories import member
from tests.http import content_of
from utilities.versioning import SystemActor, history_context

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.property]

TOKEN = re.compile(r"tk\d{6}x")
_tokens = itertools.count(1)
READERS = ("ministry_pl", "ministry_fr", "ministry_gb", "ministry_us", "analyst", "secretariat", "admin")
OFFERED = ("indicative", "confirmed", "deployed", "withdrawn")


def token() -> str:
    return f"tk{next(_tokens):06d}x"


# --- the oracle: every state the coalition went through, and the rule in plain Python -----------------

@dataclass(frozen=True)
class PledgeState:
    id: int
    country: str
    status: str
    releasability: str
    quantity: int
    category: str
    unit: str
    description: str
    place: int | None = None


@dataclass(frozen=True)
class CaveatState:
    id: int
    country: str
    pledge_id: int | None
    kind: str
    text: str
    rationale: str
    releasability: str
    is_active: bool


@dataclass(frozen=True)
class DeliveryState:
    id: int
    pledge_id: int
    quantity: int
    planned_on: dt.date
    delivered_on: dt.date | None
    note: str


@dataclass
class State:
    at: dt.datetime  # from this moment until the next state's
    pledges: dict[int, PledgeState]
    caveats: dict[int, CaveatState]
    deliveries: dict[int, DeliveryState] = field(default_factory=dict)


@dataclass(frozen=True)
class Reader:
    role: str  # ministry | all
    country: str | None = None
    member: bool = True  # the reader's country belongs to the coalition


def reader_of(user: User, coalition: Coalition) -> Reader:
    if user.role == "ministry":
        assert user.country is not None
        return Reader("ministry", user.country.code, coalition.members.filter(pk=user.country_id).exists())
    return Reader("all")


def pledge_visible(reader: Reader, pledge: PledgeState) -> bool:
    if reader.role == "ministry":
        if pledge.country == reader.country:
            return True
        return reader.member and pledge.status != "draft" and pledge.releasability == "coalition"
    return pledge.status != "draft"


def caveat_visible(reader: Reader, caveat: CaveatState, pledges: dict[int, PledgeState]) -> bool:
    on_visible_pledge = caveat.pledge_id is None or pledge_visible(reader, pledges[caveat.pledge_id])
    if reader.role == "ministry":
        if caveat.country == reader.country:
            return True
        return reader.member and caveat.releasability == "coalition" and on_visible_pledge
    return on_visible_pledge


@dataclass
class Story:
    coalition: Coalition
    states: list[State] = field(default_factory=list)

    def record(self) -> None:
        """The state after a committed write, from the live tables; it holds from now on."""
        pledges = {
            p.pk: PledgeState(p.pk, p.country.code, p.status, p.releasability, p.quantity, p.category.code,
                              p.unit.code, p.description, p.place_id)
            for p in Pledge.objects.filter(coalition=self.coalition).select_related("country", "category", "unit")
        }
        caveats = {
            c.pk: CaveatState(c.pk, c.country.code, c.pledge_id, c.kind, c.text, c.rationale, c.releasability,
                              c.is_active)
            for c in Caveat.objects.filter(coalition=self.coalition).select_related("country")
        }
        deliveries = {
            d.pk: DeliveryState(d.pk, d.pledge_id, d.quantity, d.planned_on, d.delivered_on, d.note)
            for d in Delivery.objects.filter(pledge__coalition=self.coalition)
        }
        self.states.append(State(timezone.now(), pledges, caveats, deliveries))

    def state_at(self, moment: dt.datetime) -> State:
        current = self.states[0]
        for state in self.states:
            if state.at <= moment:
                current = state
        return current

    def visible_pledges(self, reader: Reader, state: State) -> dict[int, PledgeState]:
        return {pk: p for pk, p in state.pledges.items() if pledge_visible(reader, p)}

    def visible_caveats(self, reader: Reader, state: State) -> dict[int, CaveatState]:
        return {pk: c for pk, c in state.caveats.items() if caveat_visible(reader, c, state.pledges)}

    def visible_deliveries(self, reader: Reader, state: State) -> dict[int, DeliveryState]:
        return {pk: d for pk, d in state.deliveries.items()
                if d.pledge_id in state.pledges and pledge_visible(reader, state.pledges[d.pledge_id])}

    def tokens_seen_by(self, reader: Reader) -> set[str]:
        """Every token in a version the reader could see while it was current."""
        seen: set[str] = set()
        for state in self.states:
            for pledge in self.visible_pledges(reader, state).values():
                seen |= set(TOKEN.findall(pledge.description))
            for caveat in self.visible_caveats(reader, state).values():
                seen |= set(TOKEN.findall(caveat.text + " " + caveat.rationale))
            for delivery in self.visible_deliveries(reader, state).values():
                seen |= set(TOKEN.findall(delivery.note))
        return seen

    def all_tokens(self) -> set[str]:
        found: set[str] = set()
        for state in self.states:
            for pledge in state.pledges.values():
                found |= set(TOKEN.findall(pledge.description))
            for caveat in state.caveats.values():
                found |= set(TOKEN.findall(caveat.text + " " + caveat.rationale))
            for delivery in state.deliveries.values():
                found |= set(TOKEN.findall(delivery.note))
        return found


# --- random histories ----------------------------------------------------------------------------------

WRITES = (
    "create", "create", "offer", "confirm", "deploy", "edit_pledge", "release_pledge", "add_caveat",
    "add_caveat", "edit_caveat", "release_caveat", "lift_caveat", "withdraw", "delete_draft", "plan_tranche",
    "record_tranche", "move_pledge",
)
PLACES = (703448, 698740, 702550)  # Kyiv, Odesa, Lviv: places shared by several pledges, so a point mixes them


def write(world: World, story: Story, data: st.DataObject, kind: str | None = None) -> None:
    """One random write by one of the coalition's three countries; one with nothing to act on is skipped."""
    country = data.draw(st.sampled_from([world.pl, world.fr, world.gb]), label="country")
    actor = getattr(world, f"ministry_{country.code.lower()}")
    kind = kind or data.draw(st.sampled_from(WRITES), label="write")
    pledges = list(Pledge.objects.filter(coalition=story.coalition, country=country).order_by("pk"))
    caveats = list(Caveat.objects.filter(coalition=story.coalition, country=country).order_by("pk"))
    releasability = st.sampled_from(["secretariat", "coalition"])

    def pick(rows: list[Any], **where: Any) -> Any:
        rows = [r for r in rows if all(
            (getattr(r, k) in v) if isinstance(v, tuple) else getattr(r, k) == v for k, v in where.items()
        )]
        return data.draw(st.sampled_from(rows), label="target") if rows else None

    if kind == "create":
        services.pledge_create(
            actor=actor, coalition=story.coalition, category=world.troops, unit=world.personnel,
            quantity=data.draw(st.integers(1, 500), label="quantity"), description=f"{token()} offer",
            releasability=data.draw(releasability, label="releasability"),
            status=data.draw(st.sampled_from(["draft", "indicative"]), label="status"),
            place=Place.objects.get(pk=data.draw(st.sampled_from(PLACES), label="place")),
        )
    elif kind in ("offer", "confirm", "deploy", "withdraw"):
        target_status, source = {
            "offer": ("indicative", "draft"), "confirm": ("confirmed", "indicative"),
            "deploy": ("deployed", "confirmed"), "withdraw": ("withdrawn", ("indicative", "confirmed", "deployed")),
        }[kind]
        if (pledge := pick(pledges, status=source)) is None:
            return
        services.pledge_transition(actor=actor, pledge=pledge, to_status=target_status)
    elif kind == "edit_pledge":
        if (pledge := pick(pledges, status=("draft", "indicative", "confirmed", "deployed"))) is None:
            return
        services.pledge_update(actor=actor, pledge=pledge, description=f"{token()} edited",
                               quantity=data.draw(st.integers(1, 500), label="quantity"))
    elif kind == "move_pledge":
        if (pledge := pick(pledges, status=("draft", "indicative", "confirmed", "deployed"))) is None:
            return
        place = data.draw(st.one_of(st.none(), st.sampled_from(PLACES)), label="place")
        services.pledge_update(actor=actor, pledge=pledge, place=Place.objects.get(pk=place) if place else None)
    elif kind == "release_pledge":
        if (pledge := pick(pledges, status=("draft", "indicative", "confirmed", "deployed"))) is None:
            return
        flipped = "coalition" if pledge.releasability == "secretariat" else "secretariat"
        services.pledge_update(actor=actor, pledge=pledge, releasability=flipped)
    elif kind == "add_caveat":
        on_pledge = pick(pledges, status=("draft", "indicative", "confirmed", "deployed"))
        country_wide = on_pledge is None or data.draw(st.booleans(), label="country-wide")
        services.caveat_add(
            actor=actor, kind=data.draw(st.sampled_from(["condition", "geographic", "role"]), label="kind"),
            text=f"{token()} caveat", rationale=f"{token()} because",
            pledge=None if country_wide else on_pledge, coalition=story.coalition if country_wide else None,
            releasability=data.draw(st.one_of(st.none(), releasability), label="caveat releasability"),
        )
    elif kind == "edit_caveat":
        if (caveat := pick(caveats)) is None:
            return
        services.caveat_update(actor=actor, caveat=caveat, text=f"{token()} reworded",
                               rationale=f"{token()} reasons")
    elif kind == "release_caveat":
        if (caveat := pick(caveats)) is None:
            return
        flipped = "coalition" if caveat.releasability == "secretariat" else "secretariat"
        services.caveat_update(actor=actor, caveat=caveat, releasability=flipped)
    elif kind == "lift_caveat":
        if (caveat := pick(caveats, is_active=True)) is None:
            return
        services.caveat_lift(actor=actor, caveat=caveat)
    elif kind == "delete_draft":
        if (pledge := pick(pledges, status="draft")) is None:
            return
        services.pledge_delete(actor=actor, pledge=pledge)
    elif kind == "plan_tranche":
        if (pledge := pick(pledges, status=("indicative", "confirmed", "deployed"))) is None:
            return
        room = pledge.quantity - sum(pledge.deliveries.values_list("quantity", flat=True))
        if room < 1:
            return
        services.delivery_plan(
            actor=actor, pledge=pledge, quantity=data.draw(st.integers(1, room), label="tranche"),
            planned_on=timezone.localdate() + dt.timedelta(days=data.draw(st.integers(-30, 30), label="planned")),
            note=f"{token()} tranche",
        )
    elif kind == "record_tranche":
        tranches = list(Delivery.objects.filter(pledge__in=pledges, delivered_on__isnull=True,
                                                pledge__status__in=("indicative", "confirmed", "deployed")))
        if not tranches:
            return
        services.delivery_record(actor=actor, delivery=data.draw(st.sampled_from(tranches), label="tranche"))
    story.record()


# --- the read paths ------------------------------------------------------------------------------------

def q(moment: dt.datetime) -> str:
    return moment.isoformat()


class Checker:
    def __init__(self, world: World, story: Story, user: User) -> None:
        self.story, self.user = story, User.objects.get(pk=user.pk)
        self.reader = reader_of(self.user, story.coalition)
        self.allowed = story.tokens_seen_by(self.reader)
        self.written = story.all_tokens()
        self.api = APIClient()
        self.api.force_authenticate(self.user)
        self.browser = Client()
        self.browser.force_login(self.user)
        self.where = f"{user.username}"

    def no_foreign_tokens(self, text: str, path: str) -> None:
        # Earlier examples' coalitions are there too, with texts this reader may well see: judge this story's.
        leaked = (set(TOKEN.findall(text)) & self.written) - self.allowed
        assert not leaked, f"{self.where} saw {sorted(leaked)} at {path}, never visible to them when current"

    def get(self, client: Any, path: str, params: dict[str, Any] | None = None, ok: tuple[int, ...] = (200,)) -> Any:
        response = client.get(path, params or {})
        assert response.status_code in ok, (self.where, path, params, response.status_code, response.content[:300])
        text = content_of(response).decode()
        self.no_foreign_tokens(text, f"{path} {params or ''}")
        return response

    # API ---------------------------------------------------------------------------------------------
    def pledge_rows(self, params: dict[str, Any]) -> dict[int, tuple[Any, ...]]:
        rows = self.get(self.api, "/api/v1/pledges/", {"coalition": self.story.coalition.pk, "page_size": 1000,
                                                        **params}).json()["results"]
        return {r["id"]: (r["status"], r["releasability"], r["quantity"], r["description"]) for r in rows}

    def expected_pledges(self, state: State) -> dict[int, tuple[Any, ...]]:
        return {pk: (p.status, p.releasability, p.quantity, p.description)
                for pk, p in self.story.visible_pledges(self.reader, state).items()}

    def expected_caveats(self, state: State) -> dict[int, tuple[Any, ...]]:
        return {pk: (c.text, c.rationale, c.releasability, c.is_active)
                for pk, c in self.story.visible_caveats(self.reader, state).items()}

    def api_now(self) -> None:
        now = self.story.states[-1]
        assert self.pledge_rows({}) == self.expected_pledges(now), self.where
        # again: now read back from the answers kept per data version and reader (pledges.answer_cache), after
        # other readers asked the same address
        assert self.pledge_rows({}) == self.expected_pledges(now), self.where
        self.get(self.api, "/api/v1/pledges/", {"coalition": self.story.coalition.pk, "format": "csv"})
        caveats = self.get(self.api, "/api/v1/caveats/", {"coalition": self.story.coalition.pk,
                                                          "page_size": 1000}).json()["results"]
        assert {c["id"]: (c["text"], c["rationale"], c["releasability"], c["is_active"]) for c in caveats} == (
            self.expected_caveats(now)), self.where
        for pk in now.pledges:
            self.get(self.api, f"/api/v1/pledges/{pk}/", ok=(200, 404))
        for pk in now.caveats:
            self.get(self.api, f"/api/v1/caveats/{pk}/", ok=(200, 404))
        tranches = self.get(self.api, "/api/v1/deliveries/", {"coalition": self.story.coalition.pk,
                                                              "page_size": 1000}).json()["results"]
        assert {t["id"]: (t["quantity"], t["delivered_on"], t["note"]) for t in tranches} == {
            pk: (d.quantity, d.delivered_on.isoformat() if d.delivered_on else None, d.note)
            for pk, d in self.story.visible_deliveries(self.reader, now).items()}, self.where
        self.get(self.api, "/api/v1/deliveries/", {"coalition": self.story.coalition.pk, "format": "csv"})
        self.api_map(now, {})

    def api_as_of(self, moment: dt.datetime) -> None:
        state = self.story.state_at(moment)
        assert self.pledge_rows({"as_of": q(moment)}) == self.expected_pledges(state), (self.where, moment)
        conditional = {r["id"]: r["is_conditional"] for r in self.get(
            self.api, "/api/v1/pledges/", {"coalition": self.story.coalition.pk, "as_of": q(moment),
                                           "page_size": 1000}).json()["results"]}
        caveats = self.story.visible_caveats(self.reader, state)
        for pk, pledge in self.story.visible_pledges(self.reader, state).items():
            expected = any(c.kind == "condition" and c.is_active and (c.pledge_id == pk or (
                c.pledge_id is None and c.country == pledge.country)) for c in caveats.values())
            assert conditional[pk] == expected, (self.where, moment, pk)
        for pk in self.story.states[-1].pledges:
            self.get(self.api, f"/api/v1/pledges/{pk}/", {"as_of": q(moment)}, ok=(200, 404))
        self.api_map(state, {"as_of": q(moment)})
        force = self.get(self.api, f"/api/v1/coalitions/{self.story.coalition.pk}/force/", {"as_of": q(moment)},
                         ok=(200, 404))
        if force.status_code == 200:
            offered = [p for p in self.story.visible_pledges(self.reader, state).values()
                       if p.status in ("indicative", "confirmed", "deployed")]
            lines = {(line["category"], line["unit"]): line for line in force.json()["categories"]}
            troops = lines.get(("troops", "personnel"), {"confirmed": 0, "indicative": 0, "delivered": 0})
            assert troops["confirmed"] == sum(p.quantity for p in offered if p.status in ("confirmed", "deployed"))
            assert troops["indicative"] == sum(p.quantity for p in offered if p.status == "indicative")
            offered_ids = {p.id for p in offered}
            assert troops["delivered"] == sum(d.quantity for d in state.deliveries.values()
                                              if d.pledge_id in offered_ids and d.delivered_on is not None)

    def api_map(self, state: State, params: dict[str, Any]) -> None:
        """The map's points are the places of the offered pledges the reader saw at that moment, each with
        exactly those pledges: a draft's place, or a place only a hidden pledge has, is never a point."""
        answer = self.get(self.api, f"/api/v1/coalitions/{self.story.coalition.pk}/map/", params, ok=(200, 404))
        if answer.status_code == 404:
            assert not self.reader.member, self.where
            return
        expected: dict[int, list[int]] = {}
        for pk, pledge in sorted(self.story.visible_pledges(self.reader, state).items()):
            if pledge.place is not None and pledge.status in ("indicative", "confirmed", "deployed"):
                expected.setdefault(pledge.place, []).append(pk)
        shown = {f["id"]: f["properties"]["pledges"] for f in answer.json()["features"]}
        assert shown == expected, (self.where, params)

    def api_changes(self, since: dt.datetime, until: dt.datetime) -> None:
        answer = self.get(self.api, "/api/v1/pledges/changes/", {"since": q(since), "until": q(until),
                                                                 "coalition": self.story.coalition.pk}).json()
        before, after = self.story.state_at(since), self.story.state_at(until)
        shown_before, shown_after = self.expected_pledges(before), self.expected_pledges(after)
        for change in answer["pledges"]:
            pk = change["pledge_id"]
            if change["quantity_after"] is not None:
                assert pk in shown_after, (self.where, "change to a pledge not visible at until", change)
                assert (change["status_after"], change["quantity_after"]) == (
                    shown_after[pk][0], shown_after[pk][2]), (self.where, change)
            if change["quantity_before"] is not None:
                assert pk in shown_before, (self.where, "change from a pledge not visible at since", change)
        tranches_after = self.story.visible_deliveries(self.reader, after)
        for change in answer["deliveries"]:
            if change["quantity_after"] is not None:
                assert change["delivery_id"] in tranches_after, (self.where, "tranche not visible at until", change)
                assert change["quantity_after"] == tranches_after[change["delivery_id"]].quantity
        caveats_after = self.expected_caveats(after)
        for change in answer["caveats"]:
            pk = change["caveat_id"]
            assert pk in caveats_after, (self.where, "caveat not visible at until", change)
            assert (change["text"], change["rationale"]) == caveats_after[pk][:2], (self.where, change)

    # admin -------------------------------------------------------------------------------------------
    def admin_pages(self) -> None:
        now = self.story.states[-1]
        for model, ids in (("pledge", now.pledges), ("caveat", now.caveats), ("delivery", now.deliveries)):
            narrowed = {"coalition__id__exact": self.story.coalition.pk} if model != "delivery" else {}
            self.get(self.browser, f"/admin/pledges/{model}/", narrowed)
            for pk in ids:
                for page in ("change", "history"):
                    self.get(self.browser, f"/admin/pledges/{model}/{pk}/{page}/", ok=(200, 302, 403, 404))
        self.get(self.browser, "/admin/pghistory/events/", ok=(302, 403, 404))

    # brief -------------------------------------------------------------------------------------------
    def brief_snapshot(self, previous: dt.datetime, as_of: dt.datetime) -> None:
        start = dict(ends_at=as_of + dt.timedelta(days=1), time_zone="UTC")
        with history_context(SystemActor("property-test"), "meetings"):
            Meeting.objects.create(coalition=self.story.coalition, title="Earlier", starts_at=previous,
                                   ends_at=previous, time_zone="UTC", status="held")
            meeting = Meeting.objects.create(coalition=self.story.coalition, title="Next", starts_at=as_of, **start)
        brief = Brief.objects.create(meeting=meeting, number=1, as_of=as_of)
        snapshot = build_snapshot(brief)
        self.no_foreign_tokens(repr(snapshot), f"brief snapshot as of {as_of}")
        state = self.story.state_at(as_of)
        visible = self.expected_caveats(state)
        for caveat in snapshot["caveats"]:
            assert (caveat["text"], caveat["rationale"]) == visible[caveat["id"]][:2]
        for change in snapshot["changes"]["caveats"]:
            assert (change["text"], change["rationale"]) == visible[change["caveat_id"]][:2]
        placed: dict[int, int] = {}
        for pledge in self.story.visible_pledges(self.reader, state).values():
            if pledge.place is not None and pledge.status in ("indicative", "confirmed", "deployed"):
                placed[pledge.place] = placed.get(pledge.place, 0) + 1
        assert {point["id"]: point["pledges"] for point in snapshot["places"]["points"]} == placed


@settings(max_examples=int(__import__("os").environ.get("COALITION_PROPERTY_EXAMPLES", "20")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_reader_ever_sees_what_was_invisible_to_them_when_current(
    world: World, gazetteer: None, data: st.DataObject
) -> None:
    number = next(_tokens)
    coalition = Coalition.objects.create(name=f"Coalition number {number}", short_name=f"C-{number}")
    for country in (world.pl, world.fr, world.gb):
        member(country, coalition)
    story = Story(coalition)
    story.record()
    write(world, story, data, kind="create")
    for _ in range(data.draw(st.integers(3, 14), label="writes")):
        write(world, story, data)

    moments = [state.at for state in story.states]

    def pick_moment(label: str) -> dt.datetime:
        return data.draw(st.sampled_from(moments), label=label)

    for role in READERS:
        checker = Checker(world, story, getattr(world, role))
        checker.api_now()
        checker.api_as_of(pick_moment("as_of"))
        since, until = sorted((pick_moment("since"), pick_moment("until")))
        checker.api_changes(since, until)
        checker.admin_pages()
    since, as_of = sorted((pick_moment("brief since"), pick_moment("brief as_of")))
    Checker(world, story, world.secretariat).brief_snapshot(since, as_of)
