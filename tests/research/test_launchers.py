"""The launchers run real jobs: threads on local slots, and submitit's local executor in processes.

Concurrency is measured from the jobs' own start and end times, not from mocks. Ray is not
installed here, so only its missing-package error is checked.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from harness.errors import HarnessError
from harness.research.launchers import (
    THREAD_VARS,
    ClusterOptions,
    LaunchError,
    LocalPool,
    Slot,
    cpu_count,
    local_slots,
    make_launcher,
)

JOB_S = 0.1  # how long each timed job sleeps: long enough for every slot to be busy at once
WAIT_S = 10.0  # generous bound on any wait, so a broken pool fails the test instead of hanging


def _cpu_slots(count: int) -> list[Slot]:
    return [Slot(i, "cpu", ()) for i in range(count)]


def _pid_and_slot(slot: Slot) -> tuple[int, Slot]:
    return os.getpid(), slot


def _fail(slot: Slot) -> None:
    raise ValueError(f"boom on slot {slot.index}\nsecond line of the message")


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at one instant (an end at t closes before a start at t opens)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_local_pool_runs_every_job_with_at_most_slots_at_once():
    pool = LocalPool(_cpu_slots(2))
    spans: list[tuple[int, float, float]] = []
    lock = threading.Lock()

    def job(slot: Slot) -> int:
        start = time.monotonic()
        time.sleep(JOB_S)
        with lock:
            spans.append((slot.index, start, time.monotonic()))
        return slot.index

    handles = [pool.submit(job) for _ in range(6)]
    results = [handle.result(timeout=WAIT_S) for handle in handles]
    pool.close()
    assert sorted(set(results)) == [0, 1]
    assert len(spans) == 6
    assert _max_overlap([(start, end) for _, start, end in spans]) == 2
    for index in (0, 1):
        own = [(start, end) for slot, start, end in spans if slot == index]
        assert _max_overlap(own) == 1, f"slot {index} ran two jobs at once: {own}"


def test_failing_jobs_hand_their_slots_back():
    pool = LocalPool(_cpu_slots(2))
    for handle in [pool.submit(_fail) for _ in range(4)]:
        with pytest.raises(LaunchError):
            handle.result(timeout=WAIT_S)
    both_running = threading.Barrier(2, timeout=WAIT_S)

    def job(slot: Slot) -> int:
        both_running.wait()  # only passes if both slots are free again
        return slot.index

    handles = [pool.submit(job) for _ in range(2)]
    assert sorted(handle.result(timeout=WAIT_S) for handle in handles) == [0, 1]
    pool.close()


def test_a_job_error_is_reraised_as_one_line_launch_error():
    pool = LocalPool(_cpu_slots(1))
    with pytest.raises(LaunchError) as caught:
        pool.submit(_fail).result(timeout=WAIT_S)
    pool.close()
    assert str(caught.value) == "local slot 0: ValueError: boom on slot 0"
    assert isinstance(caught.value.__cause__, ValueError)
    assert "second line of the message" in caught.value.details


def test_local_slots_split_the_cores_between_cpu_workers():
    slots = local_slots(2)
    threads = str(max(1, cpu_count() // 2))
    assert slots == [Slot(i, "cpu", tuple((var, threads) for var in THREAD_VARS)) for i in (0, 1)]


def test_more_cpu_workers_than_cores_get_one_thread_each():
    slots = local_slots(cpu_count() + 3)
    assert len(slots) == cpu_count() + 3
    assert {slot.env for slot in slots} == {tuple((var, "1") for var in THREAD_VARS)}


def test_submitit_local_executor_runs_the_job_in_another_process(tmp_path):
    options = ClusterOptions(cluster="local", gpus_per_node=0, timeout_min=1)
    launcher = make_launcher("submitit", 1, tmp_path, options)
    try:
        pid, slot = launcher.submit(_pid_and_slot).result(timeout=WAIT_S * 6)
    finally:
        launcher.close()
    assert pid != os.getpid()
    assert slot == Slot(0, "", ())


def test_submitit_job_error_comes_back_as_one_line(tmp_path):
    options = ClusterOptions(cluster="local", gpus_per_node=0, timeout_min=1)
    launcher = make_launcher("submitit", 1, tmp_path, options)
    try:
        with pytest.raises(LaunchError) as caught:
            launcher.submit(_fail).result(timeout=WAIT_S * 6)
    finally:
        launcher.close()
    assert str(caught.value) == "submitit slot 0: ValueError: boom on slot 0"
    assert "second line of the message" in caught.value.details


def test_unknown_launcher_is_a_one_line_error(tmp_path):
    with pytest.raises(HarnessError) as caught:
        make_launcher("kubernetes", 1, tmp_path)
    assert str(caught.value) == "unknown launcher 'kubernetes'; use one of local, submitit, ray"


@pytest.mark.parametrize(("name", "extra"), [("ray", "ray"), ("submitit", "slurm")])
def test_a_missing_backend_says_what_to_install(tmp_path, monkeypatch, name, extra):
    # None in sys.modules makes `import name` fail as if the package were absent, installed or not.
    monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(HarnessError) as caught:
        make_launcher(name, 1, tmp_path)
    assert str(caught.value) == (
        f"the {name} launcher needs the {name} package, which is not installed; "
        f"run `pip install harness-nanochat[{extra}]`"
    )


def _sleep_long(slot: Slot) -> None:
    time.sleep(WAIT_S * 6)


def test_closing_a_local_pool_drops_the_jobs_not_yet_started():
    pool = LocalPool(_cpu_slots(1))
    release = threading.Event()
    first = pool.submit(lambda slot: release.wait(WAIT_S))
    queued = pool.submit(lambda slot: "never runs")
    closer = threading.Thread(target=pool.close)
    closer.start()
    release.set()
    closer.join(WAIT_S)
    assert first.result(timeout=WAIT_S) is True
    with pytest.raises(LaunchError) as caught:
        queued.result(timeout=WAIT_S)
    assert str(caught.value) == "job cancelled: the launcher was closed before it started"


def test_closing_submitit_cancels_the_running_job(tmp_path):
    options = ClusterOptions(cluster="local", gpus_per_node=0, timeout_min=1)
    launcher = make_launcher("submitit", 1, tmp_path, options)
    handle = launcher.submit(_sleep_long)
    time.sleep(JOB_S * 5)  # let the thread submit it: close() cancels jobs already submitted
    started = time.monotonic()
    launcher.close()
    with pytest.raises(LaunchError) as caught:
        handle.result(timeout=WAIT_S)
    assert time.monotonic() - started < WAIT_S
    assert str(caught.value).startswith("submitit slot 0: ")
    assert "(logs: " in str(caught.value)
