"""The downloadable forms in the admin: regional staff edit their text (change_formtemplate), every office's staff
view and download them (view_formtemplate); a text with a placeholder that does not exist is refused with the
list of those that do, and nothing saved is lost."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from applications.models import ExamSession

from . import documents
from .models import FormTemplate


def _html(part):
    kind, content = part
    if kind in ("fields", "office_fields"):
        rows = format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', content)
        return format_html("<table>{}</table>", rows)
    if kind in ("title", "heading"):
        return format_html("<p><strong>{}</strong></p>", content)
    return format_html("<p>{}</p>", content)


@admin.register(FormTemplate)
class FormTemplateAdmin(admin.ModelAdmin):
    list_display = ("title_zh", "kind", "english_version", "updated_at", "downloads")
    readonly_fields = ("kind", "downloads", "updated_at", "preview")
    fieldsets = (
        (None, {"fields": ("kind", "downloads", "updated_at", "preview")}),
        (
            _("Chinese (the official form)"),
            {
                "fields": (
                    "title_zh",
                    "intro_zh",
                    "applicant_fields_zh",
                    "materials_zh",
                    "declaration_zh",
                    "office_fields_zh",
                )
            },
        ),
        (
            _("English (a translation for reference; leave the title empty for none)"),
            {
                "fields": (
                    "title_en",
                    "intro_en",
                    "applicant_fields_en",
                    "materials_en",
                    "declaration_en",
                    "office_fields_en",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return False  # one form per kind, made by the migration

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name.rsplit("_", 1)[0] in FormTemplate.TEXT_FIELDS:
            field.help_text = documents.help_text()
            if db_field.name.startswith("title"):
                field.widget.attrs["size"] = 80
        return field

    @admin.display(description=_("English version"), boolean=True)
    def english_version(self, obj):
        return obj.has_english

    @admin.display(description=_("Download (filled with the current session)"))
    def downloads(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        links = [(reverse("admin:tickets_formtemplate_download", args=[obj.pk, "zh-hans"]), _("Chinese (DOCX)"))]
        if obj.has_english:
            links.append((reverse("admin:tickets_formtemplate_download", args=[obj.pk, "en"]), _("English (DOCX)")))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("Preview (Chinese, the current session, as last saved)"))
    def preview(self, obj):
        """The saved text as the DOCX says it, with the current session's dates: no need to open Word to check."""
        if obj is None or obj.pk is None:
            return "—"
        directory = reverse("office-directory")
        parts = documents.outline(obj, ExamSession.objects.current(), "zh-hans", directory_url=directory)
        return format_html(
            '<div class="form-preview">{}</div>', format_html_join("", "{}", ((_html(p),) for p in parts))
        )

    def get_urls(self):
        download = path(
            "<path:object_id>/download/<str:language>/",
            self.admin_site.admin_view(self.download_view),
            name="tickets_formtemplate_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, object_id, language):
        if not self.has_view_permission(request):
            raise PermissionDenied
        template = self.get_object(request, unquote(object_id))
        if template is None or language not in ("zh-hans", "en"):
            raise Http404
        return documents.download(request, template, language)
