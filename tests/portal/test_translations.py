"""The Chinese interface is complete: every message of the catalogue is translated and compiles."""

import re
import shutil
import subprocess
from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_catalogue_has_no_untranslated_or_fuzzy_message(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is needed to compile the translations"
    result = subprocess.run(
        [msgfmt, "--check-format", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr


def test_interface_speaks_chinese_by_default():
    with translation.override("zh-hans"):
        assert translation.gettext("All times are Beijing time.") == "所有时间均为北京时间。"
