"""The columns of the pledge and tranche exports, in order: the JSON objects' keys (the serializers' fields), the
CSV export's header (`?format=csv`) and, for pledges, the names an imported spreadsheet uses (imports.columns
takes the writable ones and passes over the rest)."""

from __future__ import annotations

PLEDGE_COLUMNS = (
    "id", "country", "coalition", "category", "unit", "quantity", "status", "is_conditional", "description",
    "available_from", "available_until", "notice_to_move_days", "location", "place", "estimated_value_eur",
    "releasability", "is_illustrative", "version", "created_at", "updated_at", "delivered_quantity",
    "has_overdue_delivery", "reconfirmed_at", "is_stale", "relieves",
)
# In CSV the place is two columns: its GeoNames id (`place`, as a write takes it) and its name.
PLEDGE_CSV_COLUMNS = tuple(name for column in PLEDGE_COLUMNS
                           for name in (("place", "place_name") if column == "place" else (column,)))

DELIVERY_COLUMNS = ("id", "pledge", "country", "unit", "quantity", "planned_on", "delivered_on", "note", "is_overdue",
                    "version", "created_at", "updated_at")
