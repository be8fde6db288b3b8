import datetime
import os

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from core.models import PendingUpload
from portal.sweeps import delete_stale_pending_uploads

pytestmark = pytest.mark.django_db


def test_stale_pending_uploads_are_deleted_with_their_files():
    now = timezone.now()
    old = PendingUpload(field="insurance_pdf", original_name="old.pdf", created_at=now - datetime.timedelta(days=2))
    old.file.save("old.pdf", ContentFile(b"%PDF-1.4"), save=True)
    fresh = PendingUpload(field="insurance_pdf", original_name="fresh.pdf", created_at=now)
    fresh.file.save("fresh.pdf", ContentFile(b"%PDF-1.4"), save=True)
    old_path = old.file.path

    assert delete_stale_pending_uploads(now) == "1 unused uploads deleted"
    assert list(PendingUpload.objects.values_list("original_name", flat=True)) == ["fresh.pdf"]
    assert not os.path.exists(old_path)
    assert delete_stale_pending_uploads(now) == "0 unused uploads deleted"
