"""Import routes; coalition/api_urls.py includes them under /api/v1/."""

from django.urls import path

from imports.api import views

urlpatterns = [
    path("coalitions/<int:pk>/template.xlsx", views.TemplateView.as_view(), name="coalition-template"),
    path("imports/", views.ImportListView.as_view(), name="import-list"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/apply/", views.ImportApplyView.as_view(), name="import-apply"),
]
