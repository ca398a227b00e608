"""The dashboard's controls: which coalition, as of which day, on which day, with which conditions assumed; what
the map's circles measure; a brief's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from pledges.models import Coalition
from pledges.scenarios import NO_ASSUMPTIONS, Assumptions, parse_assumptions
from utilities.languages import BRIEF_LANGUAGE_REFUSED, BRIEF_LANGUAGES

FIRST_DAY, LAST_DAY = dt.date(1990, 1, 1), dt.date(2100, 12, 31)  # as the API's `on` (pledges.api.time)


class AssumeWidget(forms.Widget):
    """`assume` as the API writes it (`3:failed,5:met`) or as the page's selects send it, one `assume` per
    condition (`assume=3:failed&assume=&assume=5:met`; empty: as recorded): joined into the API's form."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name) or ""]
        return ",".join(value.strip() for value in values if value and value.strip())


class ForcePictureForm(forms.Form):
    coalition: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=None)  # type: ignore[arg-type]  # set per user below
    as_of = forms.DateField(
        required=False, label=gettext_lazy("As of"), widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: as it stands now."),
    )
    on = forms.DateField(
        required=False, label=gettext_lazy("Available on"), widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: every offered pledge, whatever its days."),
    )
    assume = forms.CharField(required=False, max_length=2000, widget=AssumeWidget,
                             label=gettext_lazy("Conditions to assume"))

    def __init__(self, *args: Any, coalitions: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coalition_field: Any = self.fields["coalition"]
        coalition_field.queryset = coalitions
        self.fields["as_of"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["on"].widget.attrs.update(min=FIRST_DAY.isoformat(), max=LAST_DAY.isoformat())

    def clean_as_of(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("as_of")
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError(
                gettext_lazy("Choose today or a day in the past: the future is not recorded yet."))
        return day

    def clean_on(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("on")
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(gettext_lazy("Give a day from %(first)s to %(last)s."),
                                        params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
        return day

    def value(self, name: str) -> Any:
        """A field's clean value, None when it was not given or is wrong (each control stands on its own: a
        wrong day does not lose the coalition chosen)."""
        if not self.is_bound or name in self.errors:
            return None
        return self.cleaned_data.get(name)

    def day(self) -> dt.date | None:
        """The day the force is counted for (None: every offered pledge)."""
        day: dt.date | None = self.value("on")
        return day

    def settle_assumptions(self, coalition: Coalition) -> Assumptions:
        """The scenario of `assume`, read against the coalition shown (the one chosen, or the default one); a
        value that is not the coalition's conditions is an error on the field, and the force is read as recorded.
        """
        if not self.value("assume"):
            return NO_ASSUMPTIONS
        try:
            return parse_assumptions(self.value("assume"), coalition=coalition)
        except ValueError as error:
            self.add_error("assume", str(error))
            return NO_ASSUMPTIONS

    def moment(self) -> dt.datetime | None:
        """The end of the chosen day (None: now, for today or no day)."""
        day = self.value("as_of")
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
