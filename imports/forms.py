from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy


class UploadForm(forms.Form):
    coalition: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, empty_label=None, help_text=gettext_lazy("The coalition these pledges are for."))  # type: ignore[arg-type]
    file = forms.FileField(help_text="The template you downloaded and filled in (.xlsx), or a CSV file with the "
                                     "export's columns. At most 5 MB and 5,000 rows.")

    def __init__(self, *args: Any, coalitions: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["coalition"]
        field.queryset = coalitions
