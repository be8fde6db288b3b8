from django.shortcuts import render
from django.utils import timezone

from applications.models import ExamSession

from .models import HelpEntry


def home(request):
    session = ExamSession.objects.current()
    return render(
        request,
        "public/home.html",
        {"session": session, "open_now": session.open_now(timezone.now()) if session else []},
    )


def help_page(request):
    return render(request, "public/help.html", {"entries": HelpEntry.objects.filter(published=True)})
