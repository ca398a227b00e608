from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy
from django.views.generic import RedirectView

from accounts.views import choose_language
from utilities.health import health
from utilities.metrics import metrics

admin.site.site_header = gettext_lazy("Coalition pledge tracker")
admin.site.site_title = gettext_lazy("Coalition pledges")
admin.site.index_title = gettext_lazy("Pledges, caveats and meetings")
# No app list down the side of every admin page: it took a quarter of the width from the lists (the pledge list
# overflowed at 1280 px); the dashboard, the breadcrumbs and the admin's home lead everywhere it did.
admin.site.enable_nav_sidebar = False


def view_on_site_not_offered(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
    """The admin's "view on site" shortcut (/admin/r/<type>/<id>/) looks an object up with no regard to who
    asks, and its messages tell an existing object from a missing one. No model here has a page of its own to
    send anyone to, so every such link is the same 404, whatever the object and whoever asks."""
    raise Http404("Not found.")


handler500 = "utilities.errors.server_error"

urlpatterns = [
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("language/", choose_language, name="choose-language"),
    # Browsers ask for /favicon.ico on every page; answer it rather than log a 404 in every console.
    path("favicon.ico", RedirectView.as_view(url=static("dashboard/favicon.svg"), permanent=True)),
    path("admin/r/<int:content_type_id>/<path:object_id>/", view_on_site_not_offered, name="view-on-site-refused"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("coalition.api_urls")),
    path("", include("dashboard.urls")),
]
