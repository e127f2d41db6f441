"""A ModelAdmin mixin for the tables that public pages show (states, groups, the calendar, reviews, issues,
organisations): a save or a delete in the admin moves the data's version on once it commits
(recommendations.facets.search_data_changed), so that the search's counts and bitmaps and the pages and API reads
kept for anonymous visitors (uprtrax/pagecache.py) show the change at once."""

from django.db import transaction

from recommendations.facets import search_data_changed


class DataChangedAdmin:
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # after save_model, in the change form and the list
        transaction.on_commit(search_data_changed)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(search_data_changed)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(search_data_changed)
