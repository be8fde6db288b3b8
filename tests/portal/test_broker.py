"""`make run`'s broker (kombu's filesystem transport) writes only under PORTAL_VAR_DIR, never into the folder the
worker or beat was started from. Checked in a fresh process: settings are read once per process."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Sends beat's task through the broker (declaring and binding its queue, as a worker does) and prints the folders
# of the transport.
SEND_A_TASK = """
import json
from portal.celery import app
app.send_task("portal.tasks.run_sweeps")
print(json.dumps(app.conf.broker_transport_options))
"""


def test_the_filesystem_broker_writes_under_var_only(tmp_path):
    var_dir, started_in = tmp_path / "var", tmp_path / "elsewhere"
    started_in.mkdir()
    env = {**os.environ, "PORTAL_VAR_DIR": str(var_dir), "PYTHONPATH": str(REPO), "DJANGO_DEBUG": "1"}
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SEND_A_TASK], cwd=started_in, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

    options = json.loads(result.stdout.splitlines()[-1])
    folders = {name: Path(path) for name, path in options.items() if name.endswith("_folder") or "folder_" in name}
    assert set(folders) == {"data_folder_in", "data_folder_out", "processed_folder", "control_folder"}
    assert all(path.is_relative_to(var_dir) for path in folders.values()), folders
    assert (folders["control_folder"] / "celery.exchange").is_file()
    assert len(list(folders["data_folder_in"].glob("*.celery.msg"))) == 1
    assert list(started_in.iterdir()) == []
