"""StreamingXLSX (core/xlsx.py) against import-export's own XLSX format, which is what a background export job of
django-import-export-extensions writes with unless told otherwise: the same 50,000-row dataset of the
applications export, written by each in a child process of its own (time and peak RSS from wait4()), in turns.

    .venv/bin/python -m bench.xlsx_writers [--rows 50000] [--rounds 3]

No database: the dataset has the export's columns and values of the same shape as ApplicationExportResource
renders them (text, as the admin's export writes them), so only the writers differ.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

WRITERS = {
    "StreamingXLSX": "core.xlsx.StreamingXLSX",
    "import-export XLSX": "import_export.formats.base_formats.XLSX",
}
HEADERS = [
    "reference",
    "exam office",
    "document number (masked)",
    "name",
    "highest qualification",
    "status",
    "decided by",
    "decided at",
    "social-insurance months verified",
]


def dataset(rows):
    import tablib

    data = tablib.Dataset(headers=HEADERS, title="applications")
    for n in range(rows):
        data.append(
            [
                f"A{n:08d}X",
                "乌鲁木齐市会计考试管理中心",
                f"650102********{n % 10000:04d}",
                f"考生{n}",
                "Bachelor's degree",
                "Approved, waiting for payment",
                "reviewer_urumqi",
                f"2024-06-{1 + n % 28:02d} 10:{n % 60:02d}:00",
                str(n % 240),
            ]
        )
    return data


def child(path, rows, out):
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from django.utils.module_loading import import_string

    data = dataset(rows)
    started = time.perf_counter()
    content = import_string(path)().export_data(data)
    elapsed = time.perf_counter() - started
    with open(out, "wb") as target:
        target.write(content)
    print(f"{elapsed:.2f}")


def measure(path, rows):
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "export.xlsx")
        command = [sys.executable, "-m", "bench.xlsx_writers", "--child", path, "--rows", str(rows), "--out", out]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
        _pid, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"{path} failed")
        write_seconds = float(process.stdout.read())
        return write_seconds, usage.ru_maxrss / 1024, os.path.getsize(out) / 1024 / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.rows, args.out)
    results = {name: [] for name in WRITERS}
    for _round in range(args.rounds):
        for name, path in WRITERS.items():
            results[name].append(measure(path, args.rows))
    for name, runs in results.items():
        seconds = sorted(run[0] for run in runs)
        rss = max(run[1] for run in runs)
        print(
            f"{name:18} rows={args.rows} write_s(median of {args.rounds})={seconds[len(seconds) // 2]:.2f} "
            f"min={seconds[0]:.2f} max={seconds[-1]:.2f} peak_rss_mb={rss:.0f} file_mb={runs[0][2]:.2f}"
        )


if __name__ == "__main__":
    main()
