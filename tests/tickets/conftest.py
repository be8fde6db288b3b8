import pytest

from applications.models import ExamSession
from offices.models import Office


@pytest.fixture
def session_2024(db):
    return ExamSession.objects.get(year=2024)


@pytest.fixture
def urumqi(db):
    return Office.objects.get(code="650100")


@pytest.fixture
def kashgar(db):
    return Office.objects.get(code="653100")
