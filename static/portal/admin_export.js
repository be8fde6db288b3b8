// The export page's "select all" checkbox (templates/admin/import_export/export.html). django-import-export
// wires it with an inline onchange attribute, which the Content-Security-Policy forbids; this file does the same
// with a listener, calling the library's own handler (import_export/export_selectable_fields.js).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function (event) {
      if (typeof onSelectToggleChange === "function") {
        onSelectToggleChange(event);
      }
    });
  });
});
