from celery import shared_task

from . import sweeps


@shared_task
def run_sweeps():
    return [f"{path}: {summary}" for path, summary in sweeps.run_all()]
