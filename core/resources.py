"""Shared base for django-import-export resources."""

from import_export import resources

# A cell starting with one of these is a formula (or becomes one) in Excel and LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeExportResource(resources.ModelResource):
    """Exports neutralise formula cells (CSV and XLSX alike), so a name like '=HYPERLINK(…)' stays text."""

    def export_field(self, field, instance, **kwargs):
        return neutralise_formula(super().export_field(field, instance, **kwargs))


def normalise_headers(dataset, aliases, required):
    """Rename the columns of an imported sheet to the resource's names (`aliases`: column -> other names it
    may have, e.g. the national platform's Chinese headers) and refuse a sheet missing a required column
    before any row is read against the wrong columns."""
    from django.utils.translation import gettext as _

    names = {alias.casefold(): column for column, others in aliases.items() for alias in (column, *others)}
    dataset.headers = [names.get(str(header or "").strip().casefold(), header) for header in dataset.headers]
    missing = [column for column in required if column not in dataset.headers]
    if missing:
        del dataset[:]
        raise ValueError(_("Columns missing from the file: %(columns)s.") % {"columns": ", ".join(missing)})
