"""The dashboard's controls: which coalition, as of which day; what the map's circles measure; a brief's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from utilities.languages import BRIEF_LANGUAGE_REFUSED, BRIEF_LANGUAGES


class ForcePictureForm(forms.Form):
    coalition: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=None)  # type: ignore[arg-type]  # set per user below
    as_of = forms.DateField(
        required=False, label=gettext_lazy("As of"), widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: as it stands now."),
    )

    def __init__(self, *args: Any, coalitions: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coalition_field: Any = self.fields["coalition"]
        coalition_field.queryset = coalitions
        self.fields["as_of"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_as_of(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("as_of")
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError(
                gettext_lazy("Choose today or a day in the past: the future is not recorded yet."))
        return day

    def moment(self) -> dt.datetime | None:
        """The end of the chosen day (None: now, for today or no day)."""
        day = self.cleaned_data.get("as_of") if self.is_valid() else None
        if day is None or day >= timezone.localdate():
            return None
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone()) \
            - dt.timedelta(microseconds=1)


class MapSizeForm(forms.Form):
    """What the map's circles measure: the number of pledges at a place, or one capability's amount there (in
    its unit: troops and ships share no measure). The choices are the capabilities on the map."""

    size_by = forms.ChoiceField(required=False, label=gettext_lazy("Size the circles by"))

    def __init__(self, *args: Any, capabilities: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["size_by"]
        field.choices = [("", gettext_lazy("Number of pledges")), *capabilities]

    def chosen(self) -> tuple[str, str] | None:
        """(category, unit), or None for the number of pledges."""
        value = self.cleaned_data.get("size_by") if self.is_valid() else ""
        if not value:
            return None
        category, _slash, unit = value.partition("/")
        return category, unit


class BriefRequestForm(forms.Form):
    """The "Compile brief" button's one choice; empty: the requesting user's language (meetings.services)."""

    language = forms.ChoiceField(
        required=False, label=gettext_lazy("Language"), choices=[("", ""), *BRIEF_LANGUAGES],
        error_messages={"invalid_choice": BRIEF_LANGUAGE_REFUSED})
