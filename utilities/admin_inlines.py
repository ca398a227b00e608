"""A tabular inline whose inputs name themselves, for every app's admin.

Django's TabularInline puts each field's label in the column heading only; screen readers do not tie a heading
to the inputs under it, so axe-core finds every inline input unlabelled (WCAG 1.3.1, 4.1.2). Each widget here
carries its field's label as `aria-label`, so "Text", "Planned for" and so on are read with the input. A foreign
key's select is wrapped by the admin (the add and change links beside it): the label goes on the select itself,
as the wrapper's own attributes are the class-level widget's, shared by every row and not drawn on the first.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import capfirst


class LabelledTabularInline(admin.TabularInline):
    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)

        class Labelled(formset):  # type: ignore[valid-type,misc]
            def add_fields(self, form: Any, index: Any) -> None:
                super().add_fields(form, index)  # the formset's own fields too ("Delete")
                for name, field in form.fields.items():
                    widget = field.widget
                    while hasattr(widget, "widget"):  # RelatedFieldWidgetWrapper around the select
                        widget = widget.widget
                    widget.attrs.setdefault("aria-label", str(capfirst(field.label or name)))

        return Labelled
