"""What free text the product accepts, one rule for every write path, and how it is cleaned for output.

Every text a user types (descriptions, caveats, rationales, notes, titles, names) is checked by the model
fields' validators, which the services (full_clean) and the admin's forms both run, so the API and the admin
accept the same values: at most LONG_TEXT characters for a text, the field's max_length for a line, and no
character that cannot be stored or printed (NUL, other C0 control characters but tab and line breaks, lone
surrogates). The length limits are also CHECK constraints in the database.

`printable` is the cleaning the brief's renderers apply to whatever is stored (rows written before these
rules, or by SQL), so that any stored value renders.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
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


def long_text_validators() -> list[Any]:
    return [MaxLengthValidator(LONG_TEXT), validate_plain_text]


def length_constraint_condition(field: str, limit: int = LONG_TEXT) -> Q:
    """A CheckConstraint condition: `field` holds at most `limit` characters."""
    return Q(LessThanOrEqual(Length(field), limit))


def printable(value: Any) -> str:
    """A stored value as text any renderer accepts: refused characters removed."""
    return _REFUSED.sub("", "" if value is None else str(value))
