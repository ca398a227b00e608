from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "role", "country", "is_active", "is_staff")
    list_filter = ("role", "country", "is_active", "is_staff")
    list_select_related = ("country",)
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Role", {"fields": ("role", "country")}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, ("Role", {"fields": ("role", "country")}))
