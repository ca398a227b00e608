"""English and French: every string to translate has its French, the user's choice wins over the browser's,
and what the API and the pages say follows it."""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import LazySettings, settings
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import World

PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
SOURCES = ["accounts", "places", "pledges", "meetings", "outcomes", "imports", "dashboard", "idempotency", "coalition",
           "templates",
           "locale"]


def untranslated(po: Path) -> list[str]:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    return [message.id for message in catalog if message.id and (not message.string or message.fuzzy)]


def test_every_message_of_the_catalogue_has_its_french() -> None:
    assert untranslated(PO) == []


def test_every_string_marked_in_the_code_is_in_the_catalogue(tmp_path: Path, settings: LazySettings,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """makemessages over a copy of the code and its catalogue: a string marked for translation and not yet
    translated shows there as a message without French. (makemessages writes into the catalogue of the tree it
    runs in, so it runs in the copy.)"""
    root = Path(settings.BASE_DIR)
    for name in SOURCES:
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["fr"], no_obsolete=True, verbosity=0)
    missing = untranslated(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    assert missing == [], f"{len(missing)} strings without French (run makemessages, then translate): {missing}"


def api_as(user: User, language: str | None = None) -> APIClient:
    client = APIClient(headers={"Accept-Language": language} if language else {})
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client


def test_api_errors_in_french_with_accept_language(world: World) -> None:
    body = {"coalition": world.coalition.pk, "category": "troops", "unit": "aircraft",
            "quantity": 5, "status": "draft"}
    french = api_as(world.ministry_pl, "fr").post("/api/v1/pledges/", body, format="json")
    assert french.status_code == 400 and french["Content-Language"] == "fr"
    assert "n'est pas une unité de troops" in french.json()["unit"][0]
    english = api_as(world.ministry_pl, "en").post("/api/v1/pledges/", body, format="json")
    assert "is not a unit of troops" in english.json()["unit"][0]
    zero = api_as(world.ministry_pl, "fr").post("/api/v1/pledges/", {**body, "unit": "personnel",
                                                                       "quantity": 0}, format="json")
    assert zero.status_code == 400 and "quantity" in zero.json()
    assert all(word not in zero.json()["quantity"][0] for word in ("Ensure", "greater")), zero.json()


@pytest.mark.parametrize(("preferred", "header", "expected"), [("fr", "en", "fr"), ("en-gb", "fr", "en-gb"),
                                                               ("", "fr", "fr"), ("", "en", "en-gb")])
def test_the_users_own_language_wins_over_the_browsers(world: World, preferred: str, header: str,
                                                       expected: str) -> None:
    User.objects.filter(pk=world.analyst.pk).update(preferred_language=preferred)
    response = api_as(world.analyst, header).get("/api/v1/pledges/?page_size=0")
    assert response["Content-Language"] == expected
    page = Client(headers={"Accept-Language": header})
    page.force_login(User.objects.get(pk=world.analyst.pk))
    html = page.get("/").content.decode()
    assert ("Tableau de bord" in html) == (expected == "fr")


def test_the_header_switch_keeps_the_choice_on_the_user(world: World) -> None:
    client = Client()
    client.force_login(world.secretariat)
    page = client.get("/").content.decode()
    assert 'action="/language/"' in page and 'value="fr"' in page
    response = client.post("/language/", {"language": "fr", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert User.objects.get(pk=world.secretariat.pk).preferred_language == "fr"
    assert "Tableau de bord" in client.get("/").content.decode()
    assert client.post("/language/", {"language": "xx", "next": "https://elsewhere.example/"})["Location"] == "/"
    assert User.objects.get(pk=world.secretariat.pk).preferred_language == "fr"


def test_before_signing_in_the_switch_uses_a_cookie(db: None) -> None:
    client = Client()
    client.post("/language/", {"language": "fr", "next": "/admin/login/"})
    assert "Nom d\u2019utilisateur" in client.get("/admin/login/").content.decode()


def test_no_string_to_translate_hides_in_an_f_string() -> None:
    """makemessages cannot see _("...") inside an f-string: such a string would stay English for ever."""
    import re

    hidden = re.compile(r"""\bf(["']).*?\{_\(""")
    root = Path(settings.BASE_DIR)
    found = [f"{path.relative_to(root)}:{number}" for name in SOURCES if name not in ("templates", "locale")
             for path in (root / name).rglob("*.py")
             for number, line in enumerate(path.read_text().splitlines(), start=1) if hidden.search(line)]
    assert found == []


# Where a message reaches a reader: exceptions whose text is shown (API answers, form errors, the admin's pages),
# the admin's messages, and the classes' texts DRF and the admin show. Management commands speak to operators.
MESSAGE_CALLS = {"ValidationError", "PermissionDenied", "NotFound", "ParseError", "NotAuthenticated",
                 "AuthenticationFailed", "PreconditionFailed", "RequestTooLarge", "Conflict", "BriefNotReady",
                 "FileRefused", "ValueError", "Response", "JsonResponse"}
SECOND_ARGUMENT_CALLS = {"add_error", "error", "success", "warning", "info", "message_user"}
MESSAGE_ATTRIBUTES = {"default_detail", "default_error_messages", "error_messages", "refused_fields", "verbose_name",
                      "verbose_name_plural", "help_text"}
TRANSLATING = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def _words_outside_gettext(node: ast.AST) -> bool:
    """Whether an expression puts words into a message without gettext (a literal, an f-string's text, "..." % x)."""
    if isinstance(node, ast.Call):  # "... {}".format(x) builds a message; any other call's arguments are not one
        return isinstance(node.func, ast.Attribute) and _words_outside_gettext(node.func.value)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and re.search(r"[A-Za-z]{2}", node.value) is not None
    if isinstance(node, ast.JoinedStr):
        return any(_words_outside_gettext(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _words_outside_gettext(node.left) or _words_outside_gettext(node.right)
    if isinstance(node, ast.Dict):
        return any(_words_outside_gettext(value) for value in node.values)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(_words_outside_gettext(item) for item in node.elts)
    return False


def _messages_in(tree: ast.AST) -> Iterator[tuple[int, ast.AST]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            name = getattr(function, "id", None) or getattr(function, "attr", None)
            receiver = ast.unparse(function.value) if isinstance(function, ast.Attribute) else ""
            if name in MESSAGE_CALLS:
                yield from ((node.lineno, argument) for argument in node.args[:1])
                yield from ((node.lineno, k.value) for k in node.keywords if k.arg in ("detail", "message"))
            elif name in SECOND_ARGUMENT_CALLS and "log" not in receiver:
                yield from ((node.lineno, argument) for argument in node.args[1:2])
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {getattr(target, "id", None) or getattr(target, "attr", None) for target in targets}
            if names & MESSAGE_ATTRIBUTES and node.value is not None:
                yield node.lineno, node.value


def test_no_message_to_a_reader_is_left_unmarked() -> None:
    """Every text that reaches a reader goes through gettext, with what the reader sent as a parameter: an
    unmarked message stays English in French (makemessages cannot see it), and one built around a value (an
    f-string) cannot be translated. Tests of the answers themselves: tests/api/test_french_everywhere.py."""
    root = Path(settings.BASE_DIR)
    found = [f"{path.relative_to(root)}:{line}: {ast.unparse(node)[:100]}"
             for name in SOURCES if name not in ("templates", "locale")
             for path in (root / name).rglob("*.py") if not {"migrations", "management"} & set(path.parts)
             for line, node in _messages_in(ast.parse(path.read_text())) if _words_outside_gettext(node)]
    assert found == [], "\n".join(found)
