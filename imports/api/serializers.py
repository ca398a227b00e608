from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from imports.models import Import
from pledges.models import Coalition
from pledges.visibility import coalitions_visible_to
from utilities.api import IdField

IMPORT_ROW = inline_serializer(name="ImportRow", many=True, fields={
    "row": serializers.IntegerField(help_text="The row's number in the spreadsheet."),
    "action": serializers.ChoiceField(choices=["create", "update", "unchanged", "error"]),
    "pledge": serializers.IntegerField(allow_null=True, help_text="The pledge it changes (or created, once applied)."),
    "changes": serializers.DictField(help_text="Per field that changes: {before, after}."),
    "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    help_text="Per field, what is wrong with it."),
})


class ImportSerializer(serializers.ModelSerializer):
    coalition = serializers.IntegerField(source="coalition_id", read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    rows = serializers.SerializerMethodField()

    class Meta:
        model = Import
        fields = ["id", "status", "coalition", "country", "filename", "uploaded_by", "created_at", "applied_at",
                  "summary", "error", "rows"]
        read_only_fields = fields

    @extend_schema_field(IMPORT_ROW)
    def get_rows(self, obj: Import) -> list[dict[str, Any]]:
        return [{key: row[key] for key in ("row", "action", "pledge", "changes", "errors")} for row in obj.rows
                if "action" in row]  # none until the preview has run


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The spreadsheet: .xlsx (the template) or .csv (the export's columns).")
    coalition = IdField(queryset=Coalition.objects.none(), help_text="The coalition the pledges are for.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coalition: Any = self.fields["coalition"]
        request = self.context.get("request")  # none when the schema is generated
        coalition.queryset = coalitions_visible_to(request.user) if request else Coalition.objects.none()
