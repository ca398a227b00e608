"""Routes under /api/v1/ (filled in by the API work)."""

urlpatterns: list = []
