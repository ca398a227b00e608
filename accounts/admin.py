"""Users: administrators only. Ministry staff need a country; the model's constraint shows as a form error."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import is_administrator


class AdministratorsOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)


@admin.register(User)
class UserAdmin(AdministratorsOnly, DjangoUserAdmin):
    list_display = ("username", "email", "role", "country", "is_active", "is_staff")
    list_filter = ("role", "country", "is_active", "is_staff")
    list_select_related = ("country",)
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), (gettext_lazy("Role"), {"fields": ("role", "country")}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets,
                     (gettext_lazy("Role"), {"fields": ("role", "country", "is_staff")}))


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AdministratorsOnly, DjangoGroupAdmin):
    pass
