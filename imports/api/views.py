"""Spreadsheet imports: the template, a preview (nothing changes), applying it (all rows or none)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import is_ministry
from imports import services
from imports.api.serializers import ImportSerializer, ImportUploadSerializer
from imports.models import Import, ImportStatus
from imports.reader import FileRefused
from imports.services import imports_visible_to
from imports.template import template_xlsx
from pledges.visibility import coalitions_visible_to
from utilities.api import WritesInOneTransaction
from utilities.api_parsers import MultiPartParser

if TYPE_CHECKING:
    from imports.services import MinistryUser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TemplateView(WritesInOneTransaction, APIView):
    @extend_schema(responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="The template.")})
    def get(self, request: Request, pk: int) -> HttpResponse:
        """Your country's pledges in this coalition as a spreadsheet to change and upload again (ministry staff)."""
        user = request.user
        coalition = get_object_or_404(coalitions_visible_to(user), pk=pk)
        if not is_ministry(user):
            raise exceptions.PermissionDenied(_("The template holds a country's pledges: for ministry staff."))
        response = HttpResponse(template_xlsx(user=user, coalition=coalition), content_type=XLSX)
        name = f"pledges-{cast('MinistryUser', user).country.code}-{coalition.short_name}.xlsx".replace(" ", "-")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ImportListView(WritesInOneTransaction, generics.ListCreateAPIView):
    """Your country's imports; POST a spreadsheet to see what it would do (nothing changes yet). A file of more
    than 500 rows is previewed by a worker: the answer is `previewing` with no rows yet; GET it until
    `previewed`."""

    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser]
    may_write = staticmethod(is_ministry)

    def get_queryset(self) -> QuerySet[Import]:
        return imports_visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={201: ImportSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = ImportUploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        coalition, file = upload.validated_data["coalition"], upload.validated_data["file"]
        try:
            imported = services.import_preview(actor=request.user, coalition=coalition, filename=file.name,
                                               data=file.read())
        except FileRefused as refused:
            raise exceptions.ValidationError({"file": [str(refused)]}) from None
        return Response(ImportSerializer(imported).data, status=status.HTTP_201_CREATED)


class ImportDetailView(WritesInOneTransaction, generics.RetrieveAPIView):
    serializer_class = ImportSerializer

    def get_queryset(self) -> QuerySet[Import]:
        return imports_visible_to(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        imported = self.get_object()
        data = dict(ImportSerializer(imported).data)
        if imported.status in (ImportStatus.APPLYING, ImportStatus.PREVIEWING):
            data["progress"] = services.import_progress(imported.pk)
        return Response(data)


class ImportApplyView(WritesInOneTransaction, APIView):
    may_write = staticmethod(is_ministry)

    @extend_schema(request=None, responses={200: ImportSerializer, 202: ImportSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """Apply a previewed import: every row or none (400 naming the rows, nothing applied). Applying it again
        changes nothing more. A file of more than 500 rows is applied by a worker: 202, then GET it."""
        imported = get_object_or_404(imports_visible_to(request.user), pk=pk)
        if imported.status == ImportStatus.APPLIED:
            return Response(ImportSerializer(imported).data)
        if len(imported.rows) > services.QUEUED_ABOVE:
            queued = services.import_queue(actor=request.user, import_id=imported.pk)
            return Response(ImportSerializer(queued).data, status=status.HTTP_202_ACCEPTED)
        try:
            applied = services.import_apply(actor=request.user, import_id=imported.pk)
        except services.ImportRefused as refused:
            transaction.set_rollback(True)
            return Response({"detail": _("Nothing was applied: some rows cannot be written now."),
                             "rows": refused.rows}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ImportSerializer(applied).data)
