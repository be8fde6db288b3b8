from core.resources import SafeExportResource

from .models import Office


class OfficeResource(SafeExportResource):
    class Meta:
        model = Office
        fields = ("code", "name_zh", "name_en", "address_zh", "address_en", "phone", "email", "hours_zh", "hours_en")
        export_order = fields
        import_id_fields = ("code",)
        skip_unchanged = True
        report_skipped = True
