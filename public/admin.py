from django.contrib import admin

from .models import HelpEntry


@admin.register(HelpEntry)
class HelpEntryAdmin(admin.ModelAdmin):
    list_display = ("number", "question_zh", "question_en", "published")
    list_display_links = ("number", "question_zh")
    list_filter = ("published",)
    search_fields = ("question_zh", "question_en", "answer_zh", "answer_en")
