"""The builder runs in dashboard worker threads and in racing applies, not only in the parse.

Airflow's ``with DAG(...)`` context is one stack for the whole process; a builder that relied on
it hung one thread's tasks on another thread's DAG (duplicate task ids, missing tasks). These
build many DAGs from several threads at once and check every DAG is whole and its own.
"""

from __future__ import annotations

import threading

import pytest

from factory.builder import build_dag
from factory.enums import JobLauncher
from factory.models import StreamConfig
from factory.shape import edges


@pytest.mark.parametrize("launcher", [JobLauncher.KUBERNETES, JobLauncher.LOCAL])
def test_threads_building_at_once_each_get_whole_dags_of_their_own(sample_config, launcher):
    threads, per_thread = 4, 60
    start = threading.Barrier(threads)
    problems: list[str] = []
    built: list[str] = []

    def build(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            key = f"T{n}_{i}"
            try:
                dag = build_dag(
                    StreamConfig.model_validate({**sample_config, "stream_key": key}), "p", launcher=launcher
                )
            except Exception as exc:  # the failure this guards against is an exception from Airflow
                problems.append(f"{key}: {exc!r}")
                continue
            wired = {
                (up, down) for up, downs in ((t.task_id, t.downstream_task_ids) for t in dag.tasks) for down in downs
            }
            if wired != set(edges()) or any(t.dag is not dag for t in dag.tasks):
                problems.append(f"{key}: tasks {sorted(dag.task_dict)}, edges {sorted(wired)}")
            built.append(dag.dag_id)

    workers = [threading.Thread(target=build, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert problems == []
    assert len(set(built)) == threads * per_thread
