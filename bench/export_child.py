"""Child process of the export scenario: what the admin's export does for a regional user, to a file."""

import sys


def main(rows, path):
    import django

    django.setup()
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from applications.models import Application
    from offices.models import User

    admin = site._registry[Application]
    request = RequestFactory().get("/admin/applications/application/export/")
    request.user = User.objects.get(username="bench_regional")
    queryset = admin.get_export_queryset(request).order_by("pk")[:rows]
    resource = admin.get_export_resource_classes(request)[0]()
    dataset = resource.export(queryset=queryset)
    content = admin.get_export_formats()[0]().export_data(dataset)  # settings.IMPORT_EXPORT_FORMATS, as the admin
    with open(path, "wb") as out:
        out.write(content)
    assert len(dataset) == rows, len(dataset)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
