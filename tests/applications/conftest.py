import pytest

from offices.models import Office


@pytest.fixture
def kashgar(db):
    return Office.objects.get(code="653100")
