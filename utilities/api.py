"""Shared building blocks of the REST API under /api/v1/.

Every API app (pledges.api, meetings.api) builds its views from these, so the
whole API answers alike:

- `exception_handler`: django ValidationError -> 400 with field messages,
  PermissionDenied -> 403, Http404 -> 404 (DRF's translated "Not found.", never Django's English "No Pledge
  matches the given query."), StaleVersion -> 412 (with the
  current version), a database DataError (a value PostgreSQL refuses) -> 400,
  an IntegrityError (a concurrent write won a uniqueness race) -> 409;
  never a 500 for bad input. Set as REST_FRAMEWORK["EXCEPTION_HANDLER"].
- `parse_moment` / `MomentField` / `query_moment`: the one way a moment in a query (as_of,
  since, until, updated_since) is read.
- `RejectUnknownFieldsMixin`: write serializers answer 400 naming a field they
  do not take, instead of ignoring it.
- `PageNumberPagination`: `page` and `page_size` (1 to 1000); anything else is a 400 naming the parameter.
- `StableOrderingFilter`: `ordering=` with the row's id added last, so pages never repeat or drop a row.
- `IdField`: a related object by its id, which must be a whole number (`1.5` or `true` is a 400).
- `WritesInOneTransaction`: every API view's base. A write (POST, PUT, PATCH, DELETE) runs its handler in one
  transaction, answer included, so a committed write is never answered with an error (no read after the
  commit); it honours `Idempotency-Key` (the idempotency app), the first answer stored with the write.
- A database that is unreachable or shutting down is a 503 with `Retry-After`, never a 500.
- `ApiPermission`: reads for any authenticated user (the querysets from
  pledges.visibility decide which rows), writes only where the view's
  `may_write(user)` says so; the services check each object again.
- `VersionedObjectMixin`: `ETag` on detail responses from the model's
  `version` field, and `expected_version()` turning an `If-Match` header into
  the `expected_version` argument every service takes.
- `IF_MATCH_PARAMETER`: add it to a write operation's `extend_schema`; the
  schema hook (utilities.api_schema) then documents its 412.
- `as_read` / `writable_fields`: a PUT or PATCH may send back the object as it was read.

Beside it: the request bodies' parsers (utilities.api_parsers), the OpenAPI document's error answers
(utilities.api_schema), the token views (utilities.api_auth).

Nothing here imports rest_framework.views: DRF imports this module (as
DEFAULT_PERMISSION_CLASSES) while rest_framework.views is still loading.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import django_filters
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, transaction
from django.http import Http404
from django.http.request import RawPostDataException
from django.utils import dateparse, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from utilities.languages import activate_preferred_language
from utilities.versioning import StaleVersion

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


# --- errors ------------------------------------------------------------------------------------

class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy(
        "The object has changed since it was read; fetch it again and retry with its new ETag.")
    default_code = "precondition_failed"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy(
        "The database is not answering (restarting?). Nothing was changed; retry in a few seconds.")
    default_code = "database_unavailable"
    wait = 5  # seconds: DRF's handler sends it as Retry-After


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("This Idempotency-Key was used for a different request in the last 24 hours; "
                                  "use a new key for a new request.")
    default_code = "idempotency_key_reused"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy(
        "This conflicts with a change made at the same moment; fetch the object again and retry.")
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the exceptions our services raise."""
    from rest_framework.views import exception_handler as drf_exception_handler

    exc = _form_refused(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, Http404):
        # get_object_or_404's text names the model in English; which object is missing is the request's path.
        exc = exceptions.NotFound()
    elif isinstance(exc, StaleVersion):
        response = drf_exception_handler(PreconditionFailed(str(exc)), context)
        if response is not None:
            response.data["current_version"] = exc.current_version
        return response
    elif isinstance(exc, OperationalError | InterfaceError):
        # A dropped connection, a server shutting down or restarting: the transaction was rolled back.
        logger.warning("API request refused, database unavailable: %s", exc)
        exc = DatabaseUnavailable()
    elif isinstance(exc, DataError):
        # A value PostgreSQL refuses (out of range, NUL byte): the client's input, not our fault.
        logger.warning("API input refused by the database: %s", exc)
        exc = exceptions.ValidationError({"detail": _("A value is out of range or not allowed.")})
    elif isinstance(exc, IntegrityError):
        # The services validate uniqueness first; this is a concurrent write that got there first.
        logger.warning("API write refused by a database constraint: %s", exc)
        exc = Conflict()
    return drf_exception_handler(exc, context)


def _form_refused(exc: Exception) -> Exception:
    """Django's own limits on a form body (raised while parsing it, in the view or in a session's CSRF check) as
    the API's JSON refusals, not Django's HTML "Bad Request" page."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ParseError(_("The form has more than %(limit)s fields.")
                                     % {"limit": f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}"})
    if isinstance(exc, TooManyFilesSent):
        return exceptions.ParseError(_("The form has more than %(limit)s files.")
                                     % {"limit": f"{settings.DATA_UPLOAD_MAX_NUMBER_FILES:,}"})
    return exc


# --- moments in queries --------------------------------------------------------------------------

MOMENT_HELP = gettext_lazy("ISO 8601, e.g. 2025-03-01T12:00:00Z (a date alone is its midnight; no offset means UTC).")


def parse_moment(raw: str) -> dt.datetime:
    """The one way the API reads a moment (as_of, since, until, updated_since); ValueError says what is wrong.

    ISO 8601 date-time or date; without an offset, in the current time zone (UTC). It must be representable
    in UTC, so `9999-12-31T23:59:59-12:00` is refused everywhere alike.
    """
    text = str(raw).strip()
    if "\x00" in text:
        raise ValueError(_("Enter a valid date and time (ISO 8601)."))
    try:
        value = dateparse.parse_datetime(text)
        if value is None and (day := dateparse.parse_date(text)) is not None:
            value = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        value = None
    if value is None:
        raise ValueError(_("Enter a valid date and time: %(help)s") % {"help": MOMENT_HELP})
    if timezone.is_naive(value):
        value = value.replace(tzinfo=timezone.get_current_timezone())
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(_("This moment is out of range.")) from None


class MomentField(serializers.DateTimeField):
    """A query moment, read by `parse_moment`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", MOMENT_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        try:
            return parse_moment(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


def query_moment(raw: str | None, field: str) -> dt.datetime | None:
    """An optional moment from the query string (absent or blank: None); a bad one is a 400 naming `field`."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse_moment(raw)
    except ValueError as error:
        raise exceptions.ValidationError({field: [str(error)]}) from None


# --- strict write bodies -----------------------------------------------------------------------

class RejectUnknownFieldsMixin:
    """A write serializer that answers 400 for a key it does not take, instead of dropping it silently.

    `refused_fields` gives the message for keys that are known but not changeable here.
    """

    refused_fields: ClassVar[Mapping[str, StrOrPromise]] = {}
    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError({
                    key: [self.refused_fields.get(key, _("Unknown field; it is not accepted here."))] for key in unknown
                })
        return super().to_internal_value(data)  # type: ignore[misc]


# --- writes: one transaction, answer included; idempotent retries ---------------------------------------

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


class WritesInOneTransaction:
    """The base of every API view: DRF's dispatch, with each write run in one transaction.

    The service call and the reading that builds the answer share the transaction, so nothing touches the
    database after the commit: a write that committed is answered with its result, and one that did not (the
    database went away) with a 503, after which a retry with the same `Idempotency-Key` finds either the first
    answer (it had committed) or nothing (it had not) and writes exactly once.
    """

    request: Any
    # False only where a refused request must still leave a trace (the token login: a failed attempt is
    # recorded by django-axes, and a transaction rolled back with the refusal would erase it).
    atomic_writes: bool = True

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # DRF's APIView.dispatch, one step added
        view: Any = self
        view.args, view.kwargs = args, kwargs
        request = view.initialize_request(request, *args, **kwargs)
        view.request = request
        view.headers = view.default_response_headers
        try:
            view.initial(request, *args, **kwargs)
            method = request.method.lower()
            handler = getattr(view, method, view.http_method_not_allowed) if method in view.http_method_names \
                else view.http_method_not_allowed
            response = self.run_handler(handler, request, *args, **kwargs)
        except Exception as exc:
            response = view.handle_exception(exc)
        view.response = view.finalize_response(request, response, *args, **kwargs)
        return view.response

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        """DRF's, signing the user in first: every answer, a 404 for an unknown `?format=` (DRF's content
        negotiation, which comes before its authentication) included, is in their language."""
        self.perform_authentication(request)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def perform_authentication(self, request: Any) -> None:
        """DRF's, then a token user's own language (as the middleware does for sessions)."""
        super().perform_authentication(request)  # type: ignore[misc]
        activate_preferred_language(request, request.user)

    def run_handler(self, handler: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method in SAFE_METHODS or not self.atomic_writes:
            return handler(request, *args, **kwargs)
        key = self._idempotency_key(request)
        with transaction.atomic():
            claim = None
            if key is not None:
                from idempotency import services as idempotency

                try:
                    claim, first = idempotency.begin(user=request.user, key=key, method=request.method,
                                                     path=request.get_full_path(), **self._asked(request))
                except idempotency.KeyReused:
                    raise KeyReused() from None
                if first is not None:
                    return Response(first.body, status=first.status_code,
                                    headers={**first.headers, "Idempotent-Replayed": "true"})
            response = handler(request, *args, **kwargs)
            if claim is not None:
                from idempotency import services as idempotency

                body = None if response.data is None else JSONRenderer().render(response.data).decode()
                idempotency.finish(claim=claim, status_code=response.status_code, body=body,
                                   headers=dict(response.items()))
            return response

    @staticmethod
    def _asked(request: Any) -> dict[str, Any]:
        """What a keyed write means (idempotency.services.fingerprint). The body is parsed here as the handler
        would parse it (its parse error, 400 or 413, is the answer), never read raw: a multipart body was read by
        its parser (or by the CSRF check of a session) and may be larger than Django's in-memory limit."""
        from idempotency import services as idempotency

        try:
            data = request.data
        except exceptions.UnsupportedMediaType:
            data = None  # a body this view does not read; one that reads it answers 415, which keeps no answer
        try:
            raw = request._request.body  # JSON was read whole: compares with an answer kept before migration 0002
        except (RawPostDataException, RequestDataTooBig):
            raw = None
        asked = idempotency.fingerprint(method=request.method, path=request.path,
                                        query=dict(request.query_params.lists()), data=data)
        return {"asked": asked, "raw_body": raw}

    @staticmethod
    def _idempotency_key(request: Any) -> str | None:
        key = request.headers.get("Idempotency-Key")
        if key is None or not getattr(request.user, "is_authenticated", False):
            return None  # keys are per user; an anonymous write (the token login) takes none
        if not IDEMPOTENCY_KEY.match(key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": [_("Give 1 to 255 printable ASCII characters without spaces (a UUID).")]})
        return key


# --- ids and numbers in bodies ------------------------------------------------------------------

class WholeNumberField(serializers.IntegerField):
    """A whole number written with the digits 0-9 (as the pagination's `page_size`): `1.5`, `1e3` or other
    scripts' digits are a 400."""

    def to_internal_value(self, data: Any) -> int:
        text = str(data).strip()
        if isinstance(data, bool) or not (text.isascii() and text.isdigit()):
            self.fail("invalid")
        return int(super().to_internal_value(text))


class IdField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A related object by its id: a whole number (or its digits as a string). `1.5`, `true` or `"1e3"` is a
    400, not a lookup of whatever the database makes of it."""

    default_error_messages = {"not_an_id": gettext_lazy("Give the id as a whole number.")}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, float) and data.is_integer())
            or (isinstance(data, str) and data.isascii() and data.isdigit())
        ):
            self.fail("not_an_id")
        return super().to_internal_value(int(data))


# --- pagination, ordering and permissions -------------------------------------------------------

class PageNumberPagination(pagination.PageNumberPagination):
    """`page` (from 1) and `page_size` (1 to max_page_size); a value out of range is a 400 naming the parameter,
    never silently replaced. A page past the last is a 404, as DRF answers."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    @staticmethod
    def _whole_number(request: Request, name: str, highest: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= highest:
            raise exceptions.ValidationError(
                {name: [_("Give a whole number from 1 to %(highest)s.") % {"highest": f"{highest:,}"}]})
        return int(text)

    def get_page_size(self, request: Request) -> int:
        return self._whole_number(request, self.page_size_query_param, self.max_page_size) or self.page_size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        if request.query_params.get(self.page_query_param) != "last":
            self._whole_number(request, self.page_query_param, 2_147_483_647)
        return super().paginate_queryset(queryset, request, view)

    def requested_page(self, request: Request) -> tuple[int, int] | None:
        """The page number and size asked for, checked as paginate_queryset checks them; None for `last`, which
        is known only once the rows are counted."""
        if request.query_params.get(self.page_query_param) in self.last_page_strings:
            return None
        number = self._whole_number(request, self.page_query_param, 2_147_483_647) or 1
        return number, self.get_page_size(request)

    def paginate_counted(self, count: int, request: Request, view: Any = None) -> None:
        """Page `count` rows read elsewhere, as paginate_queryset would (a page past the last is a 404); the
        links (get_next_link, get_previous_link) then follow."""
        self.paginate_queryset(_Counted(count), request, view)


class _Counted:
    """What Django's Paginator needs of rows that are counted, not read."""

    def __init__(self, count: int) -> None:
        self._count = count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key: slice) -> list[Any]:
        return []


class StableOrderingFilter(django_filters.OrderingFilter):
    """django-filter's `ordering=`, with the row's id as the last key: rows that tie on the chosen fields keep
    one order from page to page, so walking the pages gives every row once."""

    def filter(self, qs: Any, value: Any) -> Any:
        ordered = super().filter(qs, value)
        keys = list(ordered.query.order_by)
        if keys and not {"id", "-id", "pk", "-pk"} & set(keys):
            ordered = ordered.order_by(*keys, "id")
        return ordered


class ApiPermission(BasePermission):
    """Authenticated users read; writes need the view's `may_write(user) -> bool`.

    A view without `may_write` is read-only. A method the view does not offer is
    let through so that DRF answers 405, not 403.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS or not hasattr(view, (request.method or "").lower()):
            return True
        may_write = getattr(view, "may_write", None)
        return bool(may_write is not None and may_write(user))


# --- ETag / If-Match ---------------------------------------------------------------------------

IF_MATCH_PARAMETER = OpenApiParameter(
    name="If-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description='The ETag of the object as read (e.g. "12-3"). If it changed since, the answer is 412 and nothing '
    "changes.",
)
_ETAG = re.compile(r'^(?:W/)?"(\d+)-(\d+)"$')


class VersionedObjectMixin:
    """ETag and If-Match for a viewset over a model with an integer `version` field.

    The ETag is `"<id>-<version>"`: the object's `id`, which a history row (an
    `as_of` read) carries too, while its pk is the event's. `expected_version(obj)` reads If-Match: None
    when absent or `*`; the version the client holds when it names this
    object; 412 when it names none. Pass the result to the service as
    `expected_version`, which compares it under a row lock, so a stale write
    changes nothing.
    """

    request: Any  # a DRF Request on the views that mix this in

    @staticmethod
    def object_id(obj: Any) -> Any:
        return getattr(obj, "id", None) or obj.pk

    @classmethod
    def etag_for(cls, obj: Any) -> str:
        return f'"{cls.object_id(obj)}-{obj.version}"'

    def with_etag(self, response: Response, obj: Any) -> Response:
        response["ETag"] = self.etag_for(obj)
        return response

    def expected_version(self, obj: Any) -> int | None:
        header = self.request.headers.get("If-Match")
        if header is None:
            return None
        tags = [tag.strip() for tag in header.split(",") if tag.strip()]
        if "*" in tags:
            return None
        versions = [
            int(match[2]) for tag in tags if (match := _ETAG.match(tag)) and match[1] == str(self.object_id(obj))
        ]
        if obj.version in versions:
            return int(obj.version)
        if versions:
            return versions[0]
        raise PreconditionFailed(_("If-Match does not name this object's current version."))

    def changes_asked(self, obj: Any, *, read: type[serializers.Serializer[Any]],
                      write: type[serializers.Serializer[Any]], defaults: Mapping[str, Any], partial: bool,
                      with_instance: bool = False) -> tuple[int | None, dict[str, Any]]:
        """A PUT or PATCH of `obj`: the version If-Match expects, and the changes for its update service. The
        body may be the object as read (`read`), changed (as_read); `write` checks it; a PUT (not `partial`)
        sets every writable field it leaves out to its `defaults`."""
        expected = self.expected_version(obj)
        body = as_read(self.request.data, read=read(obj).data, writable=writable_fields(write))
        instance = {"instance": obj, "context": {"request": self.request}} if with_instance else {}
        serializer = write(data=body, partial=partial, **instance)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        return expected, changes if partial else {**defaults, **changes}

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        serializer = self.get_serializer(instance)  # type: ignore[attr-defined]
        return self.with_etag(Response(serializer.data), instance)


# --- PUT and PATCH: the object as read, taken back ---------------------------------------------

def as_read(body: Any, *, read: Mapping[str, Any], writable: Iterable[str]) -> Any:
    """A PUT or PATCH body without the fields this write cannot change that are what they are, so that a client
    may send back the object as it read it, changed (GET, change, PUT): a tranche's own pledge, a pledge's country,
    ids, figures. `read` is the object's representation (as GET gives it), `writable` what the write takes. A
    field that would move stays, for the write serializer to refuse by name; a `version` other than the current
    one is a 412, as a stale If-Match is: the body is of an older version."""
    if not isinstance(body, Mapping):
        return body  # not an object: the serializer says so
    current = json.loads(JSONRenderer().render(read))  # as a client reads it: JSON values
    version = body.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version != current.get("version", version):
        raise PreconditionFailed()
    keep = set(writable)
    return {name: value for name, value in body.items()
            if name in keep or name not in current or value != current[name]}


def writable_fields(serializer: type[serializers.Serializer[Any]]) -> set[str]:
    """The fields a write serializer takes (the `writable` of as_read)."""
    return {name for name, field in serializer().fields.items() if not field.read_only}
