"""Executors: serial, local processes, or a dask.distributed cluster, all yielding rows.

Whatever the executor and the number of workers, each run's result depends only on its
spec (seeded), so the same experiment gives the same table; rows arrive in completion
order and the caller stores each as it comes, so nothing finished is lost on a crash.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sim.errors import ConfigError

if TYPE_CHECKING:
    from sim.batch.runs import RunSpec

EXECUTORS = ("serial", "process", "dask")
START_METHOD = "spawn"
"""Explicit start method: importing mesa switches the global default to spawn anyway, and
fork would copy a parent's state into workers; spawn is the same on every platform."""


def choose(executor: str | None, workers: int, scheduler: str | None = None) -> str:
    """The executor to use when none is named.

    Dask with a scheduler address, else in-process for one worker, local processes for more.
    """
    if executor:
        return executor
    if scheduler:
        return "dask"
    return "serial" if workers == 1 else "process"


def check_executor(executor: str) -> None:
    """An executor named by the user must be one we have (exit 2 otherwise)."""
    if executor not in EXECUTORS:
        raise ConfigError(
            "--executor",
            "executor",
            f"{executor!r} is not allowed; allowed: {', '.join(EXECUTORS)}",
        )


def batches(specs: list[RunSpec], size: int) -> list[list[RunSpec]]:
    """Consecutive groups of `size` specs (the last may be shorter)."""
    return [specs[i : i + size] for i in range(0, len(specs), size)]


def run_all(
    specs: list[RunSpec],
    *,
    executor: str = "process",
    workers: int = 1,
    batch_size: int = 1,
    scheduler: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Run every spec; yield each result row as soon as it is done."""
    from sim.batch.runs import execute  # noqa: PLC0415 - the model loads only to run

    check_executor(executor)
    if not specs:
        return
    if executor == "serial":
        for spec in specs:
            yield execute(spec)
    elif executor == "process":
        yield from _processes(batches(specs, batch_size), workers)
    else:
        yield from _dask(batches(specs, batch_size), workers, scheduler)


UNGUARDED = (
    "a worker process, importing your script again, reached a call that starts worker "
    'processes: put the calls of your script under `if __name__ == "__main__":` '
    "(spawned workers import the script that started them), or use workers=1"
)


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool, refused inside a worker that is importing an unguarded script."""
    main_module = sys.modules["__main__"].__name__
    if multiprocessing.parent_process() is not None and main_module == "__mp_main__":
        sys.exit(UNGUARDED)  # the worker's own message; its parent explains below
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(START_METHOD)
    )


@contextmanager
def _explained_breakage() -> Iterator[None]:
    """A pool whose workers died at start-up, as they do over an unguarded script."""
    try:
        yield
    except BrokenProcessPool:
        raise ConfigError(
            "workers", "processes", f"the worker processes died; {UNGUARDED}"
        ) from None


def _processes(groups: list[list[RunSpec]], workers: int) -> Iterator[dict[str, Any]]:
    """A local process pool; at most 2 x workers tasks in flight, so rows stream back."""
    from sim.batch.runs import execute_batch  # noqa: PLC0415 - the model loads only to run

    with _explained_breakage(), _pool(workers) as pool:
        pending = set()
        queue = iter(groups)
        for group in queue:
            pending.add(pool.submit(execute_batch, group))
            if len(pending) >= 2 * workers:
                break
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield from future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(execute_batch, nxt))


def _dask(
    groups: list[list[RunSpec]], workers: int, scheduler: str | None
) -> Iterator[dict[str, Any]]:
    """A dask.distributed cluster: an existing one at `scheduler`, or a loopback LocalCluster."""
    from dask.distributed import as_completed  # noqa: PLC0415 - optional [dist] extra

    from sim.batch.runs import execute_batch  # noqa: PLC0415 - the model loads only to run

    with dask_client(workers, scheduler) as client:
        futures = [client.submit(execute_batch, group, pure=False) for group in groups]
        for future in as_completed(futures):
            yield from future.result()


@contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A client of the cluster at `scheduler`, or of a new loopback LocalCluster; closed after.

    The one place a cluster is started and torn down (a cluster we started is closed, one we
    joined is left running).
    """
    try:
        from dask.distributed import Client, LocalCluster  # noqa: PLC0415
    except ImportError:
        raise ConfigError(
            "--executor", "executor", "dask needs the [dist] extra: pip install 'crowdsim[dist]'"
        ) from None
    cluster = (
        None
        if scheduler
        else LocalCluster(
            n_workers=max(workers, 1),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    )
    client = Client(scheduler or cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def mapper(
    executor: str = "process", workers: int = 1, scheduler: str | None = None
) -> Iterator[Callable[[Callable[[Any], Any], list[Any]], list[Any]]]:
    """A reusable executor for many small batches of any picklable function.

    Yields `map(function, items)`, which returns the results in item order; the process
    pool or dask client is started once, not per batch.
    """
    check_executor(executor)
    if executor == "serial":
        yield lambda function, items: [function(i) for i in items]
    elif executor == "process":
        with _explained_breakage(), _pool(workers) as pool:
            yield lambda function, items: list(pool.map(function, items))
    else:
        with dask_client(workers, scheduler) as client:
            yield lambda function, items: client.gather(client.map(function, items, pure=False))


@contextmanager
def runner(
    executor: str = "process", workers: int = 1, scheduler: str | None = None
) -> Iterator[Callable[[list[RunSpec]], list[dict[str, Any]]]]:
    """A reusable executor for an optimiser's trials: runs a list of specs, rows in order."""
    from sim.batch.runs import execute  # noqa: PLC0415 - the model loads only to run

    with mapper(executor, workers, scheduler) as map_:
        yield lambda specs: map_(execute, specs)
