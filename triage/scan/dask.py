"""Run a scan's per-file function on a Dask distributed cluster.

``pip install 'triage[dask]'`` brings ``dask.distributed``. The client submits
:func:`triage.scan.runner.analyze_file` once per path and streams results back
with ``as_completed``, so the parent writes the same JSONL, in completion order,
as with the local pool. Paths must be readable by the workers under the same
name (a shared mount); docs/scaling.md shows a setup.

Isolation on a cluster:

* a worker process that dies on a file (segfault, out-of-memory) is restarted by
  its nanny and Dask retries the task elsewhere; after the scheduler's
  ``distributed.scheduler.allowed-failures`` attempts the future fails with
  ``KilledWorker`` and the file gets an error entry with stage ``crash``;
* the per-file ``timeout`` is enforced inside the task: the analysis runs in a
  thread and, past the timeout, the task returns an error entry with stage
  ``timeout``; the client then asks the nanny to restart that worker, since the
  stuck thread cannot be stopped any other way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from triage.scan.runner import Outcome, analyze_file, failure_outcome

if TYPE_CHECKING:
    from triage.pipeline import Options


WINDOW_MIN = 64
WINDOW_PER_THREAD = 4


def _task(path: str, options: Options, timeout: float | None) -> tuple[Outcome, str | None]:
    """Runs on a Dask worker. Returns the outcome and, on timeout, the worker address."""
    if not timeout:
        return analyze_file(path, options), None
    box: list[Outcome] = []
    thread = threading.Thread(target=lambda: box.append(analyze_file(path, options)), daemon=True)
    thread.start()
    thread.join(timeout)
    if box:
        return box[0], None
    from distributed import get_worker

    message = (
        f"analysis took longer than the {timeout:g} s timeout on a Dask worker; "
        "the worker is being restarted (raise --timeout for very large files)"
    )
    return failure_outcome(path, message, "timeout", options), get_worker().address


def run_dask(
    paths: list[str],
    options: Options,
    address: Any,
    timeout: float | None,
    on_outcome: Callable[[int, Outcome], None],
) -> int:
    """Run ``paths`` on the cluster at ``address`` (or a ``Client``); returns restarts."""
    from distributed import Client, as_completed

    own = not isinstance(address, Client)
    client = Client(address) if own else address
    restarts = 0
    try:
        import uuid

        run = uuid.uuid4().hex[:12]
        futures: dict[Any, tuple[int, str]] = {}
        todo = iter(enumerate(paths))

        def submit_next() -> Any:
            item = next(todo, None)
            if item is None:
                return None
            fut = client.submit(
                _task, item[1], options, timeout, pure=False, key=f"triage-scan-{run}-{item[0]}"
            )
            futures[fut] = item
            return fut

        # A bounded window of tasks in flight, not a million futures on the scheduler.
        threads = sum(client.nthreads().values()) or 1
        window = max(WINDOW_MIN, WINDOW_PER_THREAD * threads)
        stream = as_completed([f for f in (submit_next() for _ in range(window)) if f is not None])
        for fut in stream:
            index, path = futures.pop(fut)
            nxt = submit_next()
            if nxt is not None:
                stream.add(nxt)
            try:
                outcome, stuck = fut.result()
            except Exception as exc:  # KilledWorker, lost worker, unpicklable result
                from triage.errors import one_line

                detail = "" if type(exc).__name__ == "KilledWorker" else f": {one_line(exc)[:300]}"
                message = (
                    f"the Dask task failed ({type(exc).__name__}): workers died while analyzing "
                    f"this file (a decoder crash or the out-of-memory killer){detail}"
                )
                outcome, stuck = failure_outcome(path, message, "crash", options), None
            on_outcome(index, outcome)
            if stuck:
                restarts += 1
                # older distributed, or no nanny: the thread runs on
                with contextlib.suppress(Exception):
                    client.restart_workers([stuck])
            fut.release()
    finally:
        if own:
            client.close()
    return restarts
