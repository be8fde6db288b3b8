from django.shortcuts import render

from .models import REGIONAL_OFFICE_CODE, Office


def directory(request):
    offices = Office.objects.order_by("code")
    return render(
        request,
        "offices/directory.html",
        {
            "regional_office": offices.filter(code=REGIONAL_OFFICE_CODE).first(),
            "local_offices": offices.exclude(code=REGIONAL_OFFICE_CODE),
        },
    )
