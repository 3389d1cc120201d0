"""Launchers: one interface to run research jobs on devices, here (threads), on Slurm or on Ray.

A job is a picklable callable taking one ``Slot`` (which device it may use, and the environment
its subprocesses need); ``Launcher.submit`` returns a ``Handle`` whose ``result()`` blocks and
turns any failure of the job into one ``LaunchError`` line (``local slot 1: ValueError: boom``).

Every launcher is a pool of ``slots``: at most one job per slot at a time, the slot handed back
when its job ends, raised or not. ``LocalPool`` runs jobs in threads of this process (a job
spawns its own subprocesses), one slot per visible GPU or ``workers`` CPU slots that split the
cores. ``SubmititLauncher`` and ``RayLauncher`` keep the same pool of threads, each of which
submits its job remotely and waits for it, so ``slots`` bounds the jobs in flight there too and
``close()`` cancels the remote ones still running. A remote slot is ``Slot(i, "", ())``: Slurm and
Ray set ``CUDA_VISIBLE_DEVICES`` themselves and the job autodetects its device.

``submitit`` and ``ray`` are optional (``pip install harness-nanochat[slurm]`` / ``[ray]``) and
imported only when their launcher is made.
"""

from __future__ import annotations

import abc
import os
import queue
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")
LAUNCHERS = ("local", "submitit", "ray")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")  # what a CPU slot caps, per job
POLL_S = 1.0  # seconds between checks of a submitit job's state (submitit's own interval)
PARTITION_ENV = "HARNESS_SLURM_PARTITION"  # the Slurm partition when ClusterOptions names none
_CLOSED_BEFORE = "cancelled: the launcher was closed before the job was submitted"
_CLOSED_DURING = "cancelled: the launcher was closed while the job ran"
_INSTALL = {
    "submitit": "pip install harness-nanochat[slurm]",
    "ray": "pip install harness-nanochat[ray]",
}


class LaunchError(HarnessError):
    """A job failed or never ran: one line; ``details`` holds the traceback, for logs."""

    def __init__(self, line: str, details: str = ""):
        super().__init__(line)
        self.details = details


@dataclass(frozen=True)
class Slot:
    """Where one job runs: ``device`` is "" (autodetect), "cpu" or "cuda"; ``env`` for its children."""

    index: int
    device: str
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ClusterOptions:
    """What a remote job asks its scheduler for (submitit; Ray reads only the GPU count)."""

    timeout_min: int = 60  # Slurm kills the job after this many minutes
    gpus_per_node: int = 1
    partition: str = ""  # "": $HARNESS_SLURM_PARTITION, else the cluster's default partition
    name: str = "harness-research"  # the Slurm job name
    cluster: str | None = None  # None: Slurm when sbatch exists, else submitit's local executor


class Handle(Generic[T]):
    """A submitted job: ``result()`` waits for it and raises ``LaunchError`` if it failed."""

    def __init__(self, future: Future):
        self._future = future

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> T:
        """The job's return value; ``TimeoutError`` when ``timeout`` seconds pass first."""
        try:
            return self._future.result(timeout)
        except CancelledError as err:
            raise LaunchError("job cancelled: the launcher was closed before it started") from err


class Launcher(Protocol):
    name: str
    slots: int

    def submit(self, job: Callable[[Slot], T]) -> Handle[T]: ...

    def close(self) -> None: ...


class LocalPool:
    """A device-slot pool: each job runs in a thread of this process, on a slot of its own."""

    name = "local"

    def __init__(self, slots: Sequence[Slot]):
        if not slots:
            raise HarnessError(
                f"{self.name} launcher: no slots to run jobs on; ask for workers >= 1"
            )
        self._slots = tuple(slots)
        self.slots = len(self._slots)
        self._free: queue.SimpleQueue[Slot] = queue.SimpleQueue()
        for slot in self._slots:
            self._free.put(slot)
        # As many threads as slots, so a thread that starts a job always finds a free slot.
        self._executor = ThreadPoolExecutor(self.slots, thread_name_prefix=f"harness-{self.name}")

    def submit(self, job: Callable[[Slot], T]) -> Handle[T]:
        return Handle(self._executor.submit(self._run_on_free_slot, job))

    def close(self) -> None:
        """Drop jobs not yet started and wait for the running ones (a thread cannot be killed)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run_on_free_slot(self, job: Callable[[Slot], T]) -> T:
        slot = self._free.get()
        try:
            return self._run(job, slot)
        except LaunchError:
            raise
        except Exception as err:
            line = f"{self.name} slot {slot.index}: {one_line(err)}"
            raise LaunchError(line, traceback.format_exc()) from err
        finally:
            self._free.put(slot)

    def _run(self, job: Callable[[Slot], T], slot: Slot) -> T:
        return job(slot)


@dataclass(frozen=True)
class _Outcome:
    """What a remote job sends back: its value, or its error as one line plus the traceback."""

    value: Any = None
    error: str = ""
    details: str = ""


def _call_remotely(job: Callable[[Slot], Any], slot: Slot) -> _Outcome:
    """Runs on the remote worker: the job's own error comes back as text, always picklable."""
    try:
        return _Outcome(value=job(slot))
    except Exception as err:
        return _Outcome(error=one_line(err), details=traceback.format_exc())


class _RemotePool(LocalPool, abc.ABC):
    """A pool whose threads each hand their job to a scheduler and wait; ``close`` cancels."""

    def __init__(self, workers: int):
        super().__init__([Slot(i, "", ()) for i in range(workers)])
        self._lock = threading.Lock()
        self._running: dict[int, Any] = {}  # slot index -> the remote job, for close()
        self._closing = threading.Event()
        self._cancelled: set[int] = set()  # slots whose job close() cancelled

    def _run(self, job: Callable[[Slot], T], slot: Slot) -> T:
        with self._lock:
            if self._closing.is_set():
                raise LaunchError(f"{self.name} slot {slot.index}: {_CLOSED_BEFORE}")
            remote = self._start(job, slot)
            self._running[slot.index] = remote
        try:
            outcome = self._wait(remote)
        except Exception as err:
            # A job cancelled by close() ends in whatever error its scheduler gives; say why.
            why = _CLOSED_DURING if self._was_cancelled(slot) else one_line(err)
            line = f"{self.name} slot {slot.index}: {why}{self._where_logs(remote)}"
            raise LaunchError(line, traceback.format_exc()) from err
        finally:
            with self._lock:
                self._running.pop(slot.index, None)
        if self._was_cancelled(slot):
            # Cancelling can end a job early without an error (its trainer killed under it),
            # so whatever it returned is not a result.
            raise LaunchError(f"{self.name} slot {slot.index}: {_CLOSED_DURING}")
        if outcome.error:
            raise LaunchError(f"{self.name} slot {slot.index}: {outcome.error}", outcome.details)
        return outcome.value

    def close(self) -> None:
        with self._lock:
            self._closing.set()
            running = dict(self._running)
            self._cancelled.update(running)
        for remote in running.values():
            self._cancel(remote)
        super().close()

    def _was_cancelled(self, slot: Slot) -> bool:
        with self._lock:
            return slot.index in self._cancelled

    @abc.abstractmethod
    def _start(self, job: Callable[[Slot], Any], slot: Slot) -> Any:
        """Submit ``_call_remotely(job, slot)``; returns the scheduler's job or reference."""

    @abc.abstractmethod
    def _wait(self, remote: Any) -> _Outcome:
        """Block until ``remote`` ends; its ``_Outcome``, or the scheduler's own error."""

    @abc.abstractmethod
    def _cancel(self, remote: Any) -> None:
        """Ask the scheduler to stop ``remote`` (it may already have ended)."""

    def _where_logs(self, remote: Any) -> str:
        return ""


class SubmititLauncher(_RemotePool):
    """Jobs through submitit's ``AutoExecutor``: Slurm when ``sbatch`` exists, else local processes."""

    name = "submitit"

    def __init__(self, workers: int, folder: Path, options: ClusterOptions, submitit: Any):
        super().__init__(workers)
        self._executor_remote = submitit.AutoExecutor(folder=Path(folder), cluster=options.cluster)
        partition = options.partition or os.environ.get(PARTITION_ENV, "")
        self._executor_remote.update_parameters(
            name=options.name,
            timeout_min=options.timeout_min,
            gpus_per_node=options.gpus_per_node,
            **({"slurm_partition": partition} if partition else {}),
        )

    def _start(self, job: Callable[[Slot], Any], slot: Slot) -> Any:
        return self._executor_remote.submit(_call_remotely, job, slot)

    def _wait(self, remote: Any) -> _Outcome:
        # Polled here rather than in remote.result(): a cancelled job has no result file, and
        # submitit waits its results timeout (15 s) for one before it gives up.
        while not remote.done():
            if self._closing.wait(POLL_S):
                raise CancelledError(f"job {remote.job_id} cancelled")
        return remote.result()

    def _cancel(self, remote: Any) -> None:
        remote.cancel(check=False)

    def _where_logs(self, remote: Any) -> str:
        return f" (logs: {remote.paths.stderr})"


class RayLauncher(_RemotePool):
    """Jobs as Ray tasks, one GPU each when the cluster has GPUs; ``RAY_ADDRESS`` joins a cluster."""

    name = "ray"

    def __init__(self, workers: int, ray: Any):
        super().__init__(workers)
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            ray.init(address="auto" if os.environ.get("RAY_ADDRESS") else None)
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        self._task = ray.remote(num_gpus=1 if has_gpus else 0)(_call_remotely)

    def _start(self, job: Callable[[Slot], Any], slot: Slot) -> Any:
        return self._task.remote(job, slot)

    def _wait(self, remote: Any) -> _Outcome:
        return self._ray.get(remote)

    def _cancel(self, remote: Any) -> None:
        # force: a plain cancel left a job asleep in a subprocess running to its end (Ray 2.60);
        # a forced one kills the worker, and Ray kills the worker's children with it.
        self._ray.cancel(remote, force=True)

    def close(self) -> None:
        super().close()
        if self._owns_ray:
            self._ray.shutdown()


def make_launcher(
    name: str, workers: int, folder: Path, options: ClusterOptions | None = None
) -> Launcher:
    """The launcher called ``name`` (local, submitit or ray) with ``workers`` slots.

    ``folder`` holds submitit's job files and logs; ``options`` what a remote job asks for.
    """
    if name not in LAUNCHERS:
        raise HarnessError(f"unknown launcher {name!r}; use one of {', '.join(LAUNCHERS)}")
    if workers < 1:
        raise HarnessError(f"{name} launcher: workers must be at least 1, got {workers}")
    options = options or ClusterOptions()
    if name == "local":
        return LocalPool(local_slots(workers))
    if name == "submitit":
        return SubmititLauncher(workers, folder, options, _backend("submitit"))
    return RayLauncher(workers, _backend("ray"))


def _backend(module: str) -> Any:
    try:
        if module == "submitit":
            import submitit

            return submitit
        import ray

        return ray
    except ImportError as err:
        raise HarnessError(
            f"the {module} launcher needs the {module} package, which is not installed; "
            f"run `{_INSTALL[module]}`"
        ) from err


def local_slots(workers: int) -> list[Slot]:
    """One slot per visible GPU (at most ``workers``), else ``workers`` CPU slots sharing the cores."""
    if workers < 1:
        raise HarnessError(f"local launcher: workers must be at least 1, got {workers}")
    gpus = visible_gpus()
    if gpus:
        from nanochat.device import detect_device

        device = detect_device().type  # nanochat.device is the one module naming device types
        return [
            Slot(i, device, (("CUDA_VISIBLE_DEVICES", gpu),))
            for i, gpu in enumerate(gpus[:workers])
        ]
    threads = str(max(1, cpu_count() // workers))
    return [Slot(i, "cpu", tuple((var, threads) for var in THREAD_VARS)) for i in range(workers)]


def visible_gpus() -> list[str]:
    """The CUDA device ids this process may use, as its children must name them."""
    import torch

    count = torch.cuda.device_count()
    if count == 0:
        return []
    # Under an inherited CUDA_VISIBLE_DEVICES (e.g. "2,3") torch's index 0 is physical GPU 2,
    # so a child must be given "2", not "0".
    inherited = os.environ.get("CUDA_VISIBLE_DEVICES")
    if inherited is None:
        return [str(i) for i in range(count)]
    return [part.strip() for part in inherited.split(",") if part.strip()][:count]


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no sched_getaffinity
        return os.cpu_count() or 1


def one_line(err: BaseException) -> str:
    """``Type: first line of the message``, the form a failed job is reported in."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
