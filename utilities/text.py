"""What free text the product accepts, one rule for every write path, and how it is cleaned for output.

Every text a user types (descriptions, caveats, rationales, notes, titles, names) is checked by the model
fields' validators, which the services (full_clean) and the admin's forms both run, so the API and the admin
accept the same values: at most LONG_TEXT characters for a text, the field's max_length for a line, and no
character that cannot be stored or printed (NUL, other C0 control characters but tab and line breaks, lone
surrogates). The length limits are also CHECK constraints in the database.

A one-line text (a title, a name, a place, a username: every CharField a user types) is stricter: no control
character at all, line breaks and tabs included, nor a Unicode line or paragraph separator. Such values go
into mail subjects, file names and table cells, where a line break splits them (a mail header cut in two).
`LINE` is its validators and `single_line_constraints` its CHECK constraints, one per field, so that no write
path (SQL included) stores a line break there.

`printable` is the cleaning the brief's renderers apply to whatever is stored (rows written before these
rules, or by SQL), so that any stored value renders.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

LONG_TEXT = 10_000  # characters: a caveat, a description, a rationale, notes

# C0 controls other than tab, line feed and carriage return; and lone surrogates (not storable as UTF-8).
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def validate_plain_text(value: Any) -> None:
    if isinstance(value, str) and (match := _REFUSED.search(value)):
        raise ValidationError(
            _("Remove the control character U+%(code)04X at position %(position)s; text, tabs and line breaks only."),
            code="control_character", params={"code": ord(match.group()), "position": match.start() + 1},
        )


# Control characters of every kind (C0 with tab and line breaks, DEL, C1 with NEL), the Unicode line and paragraph
# separators (str.splitlines and mail header folding break lines there), and lone surrogates.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The same set in PostgreSQL's regular expressions (its text holds no NUL, and no surrogate can be stored).
NOT_ONE_LINE_SQL = r"[\x01-\x1f\x7f-\x9f\u2028\u2029]"


def validate_single_line(value: Any) -> None:
    validate_plain_text(value)
    if isinstance(value, str) and (match := _NOT_ONE_LINE.search(value)):
        raise ValidationError(
            _("Keep this on one line: remove the line break or control character U+%(code)04X at position "
              "%(position)s."),
            code="not_one_line", params={"code": ord(match.group()), "position": match.start() + 1},
        )


LINE = [validate_single_line]  # a one-line text: its max_length, and no control character at all


def single_line_condition(field: str) -> Q:
    """A CheckConstraint condition: `field` holds no character `validate_single_line` refuses."""
    return ~Q(**{f"{field}__regex": NOT_ONE_LINE_SQL})


def single_line_constraints(prefix: str, *fields: str) -> list[models.BaseConstraint]:
    """The database's side of LINE: one CHECK per one-line field, named `<prefix>_<field>_single_line`."""
    return [models.CheckConstraint(condition=single_line_condition(field), name=f"{prefix}_{field}_single_line",
                                   violation_error_message=_("Keep this on one line: no line breaks or control "
                                                             "characters."))
            for field in fields]


def without_line_breaks(value: Any) -> str:
    """Any text as one line: every character LINE refuses becomes a space."""
    return _NOT_ONE_LINE.sub(" ", "" if value is None else str(value))


def long_text_validators() -> list[Any]:
    return [MaxLengthValidator(LONG_TEXT), validate_plain_text]


def length_constraint_condition(field: str, limit: int = LONG_TEXT) -> Q:
    """A CheckConstraint condition: `field` holds at most `limit` characters."""
    return Q(LessThanOrEqual(Length(field), limit))


def printable(value: Any) -> str:
    """A stored value as text any renderer accepts: refused characters removed."""
    return _REFUSED.sub("", "" if value is None else str(value))


def single_line_cleanup(*fields: str) -> Any:
    """A data migration ahead of single_line_constraints: in rows stored before the one-line rule, each character
    the rule refuses becomes a space, so adding the CHECK never fails on a live database. A unique value that
    would then equal another row's gets the row's id added. Fields are named "app.Model.field"; each row changed
    is one change in its history (a new version), its author "system"."""
    from django.db import migrations

    by_model: dict[tuple[str, str], list[str]] = {}
    for dotted in fields:
        app_label, model_name, name = dotted.split(".")
        by_model.setdefault((app_label, model_name), []).append(name)

    def clean(apps: Any, schema_editor: Any) -> None:
        import pghistory
        from django.db.models import F

        with pghistory.context(user=None, username="system", action="single_line_cleanup"):
            for (app_label, model_name), names in by_model.items():
                model = apps.get_model(app_label, model_name)
                broken = Q()
                for name in names:
                    broken |= Q(**{f"{name}__regex": NOT_ONE_LINE_SQL})
                for row in model.objects.filter(broken).values("pk", *names):
                    changes: dict[str, Any] = {}
                    for name in names:
                        cleaned = without_line_breaks(row[name])
                        if cleaned == row[name]:
                            continue
                        field = model._meta.get_field(name)
                        if field.unique and model.objects.filter(**{name: cleaned}).exclude(pk=row["pk"]).exists():
                            suffix = f" ({row['pk']})"
                            cleaned = cleaned[:field.max_length - len(suffix)] + suffix
                        changes[name] = cleaned
                    if any(field.name == "version" for field in model._meta.concrete_fields):
                        changes["version"] = F("version") + 1
                    model.objects.filter(pk=row["pk"]).update(**changes)

    return migrations.RunPython(clean, migrations.RunPython.noop)
