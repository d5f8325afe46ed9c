"""The Ray backend: every job a Ray task, placed by Ray on a node with room for it.

Driver side (this module): submissions and datasets go into Ray's object store once
each as zip bytes (or stay where they are, when the challenge's ``cluster.shared_storage``
says every node sees them); each job is a task asking for its CPUs, memory, GPU and
custom resources; the node runs it with its own autodl (:mod:`autodl.challenge.ray_node`)
and sends the run folder back, which lands in ``runs/<submission>/<dataset>/`` as a local
run would: unpacked aside, renamed into place, ``result.json`` written last.

Faults: a task whose worker or node dies is retried by Ray (``cluster.max_retries``);
when the tries are spent, or no node left can run it, or a node stops answering for
longer than the job can take, the job is recorded as ``error`` with the reason. Ctrl-C
cancels what is outstanding (the nodes stop their processes) and records nothing more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodl.challenge.backend import OnEvent
from autodl.challenge.cluster import ClusterSettings
from autodl.challenge.live import LiveState, stage
from autodl.challenge.runner import (
    DEFAULT_CONSTRUCTION_LIMIT,
    Job,
    JobEvent,
    RunnerError,
    RunOptions,
    stage_input,
)
from autodl.challenge.shipping import ShippingError, pack, unpack
from autodl.protocol import RunFolder, RunResult, Status, write_result

MISSING_RAY = "the Ray backend needs Ray, which is not installed: pip install 'autodl[ray]'"
# Seconds between two looks at the cluster (finished tasks, progress, nodes).
POLL = 0.5
# Seconds the cancelled tasks get to stop their processes before they are killed.
CANCEL_GRACE = 20.0
# Seconds with no node able to run a waiting job before it is recorded as lost.
NO_NODE_GRACE = 30.0
# Beyond what run_job itself may take: transfers both ways, imports on the node.
TRANSFER_SLACK = 300.0


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RunnerError(MISSING_RAY) from None
    return ray


def job_limit(job: Job, options: RunOptions) -> float:
    """The longest a job can take on its node before the driver gives up on it."""
    run = (job.construction_budget or DEFAULT_CONSTRUCTION_LIMIT) + job.time_budget
    run += options.job_grace + options.score_grace + 120.0 + job.time_budget / 10
    return run + TRANSFER_SLACK


def _board_actor(ray: Any) -> Any:
    """An actor the tasks report their live state into; the driver reads it."""

    @ray.remote(num_cpus=0, max_restarts=0)
    class ProgressBoard:
        def __init__(self) -> None:
            self.states: dict[str, dict] = {}

        def report(self, key: str, state: dict) -> None:
            self.states.setdefault(key, {}).update(state)

        def snapshot(self) -> dict[str, dict]:
            return self.states

    # Beside the driver when it is a node, so that progress survives other nodes' loss.
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = ray.get_runtime_context().get_node_id()
    strategy = NodeAffinitySchedulingStrategy(here, soft=True)
    return ProgressBoard.options(scheduling_strategy=strategy).remote()


@dataclass
class _Running:
    job: Job
    index: int
    started_at: float | None = None  # when a node last began it (a retry starts again)
    begun: float | None = None  # the node's own clock at that start: tells tries apart
    waiting_since: float = field(default_factory=time.monotonic)
    unplaceable_since: float | None = None


@dataclass
class RayBackend:
    """Jobs as Ray tasks on the cluster at ``address`` (None: ``RAY_ADDRESS``, else a
    Ray instance started on this machine for the run)."""

    address: str | None = None
    settings: ClusterSettings = field(default_factory=ClusterSettings)
    options: RunOptions = field(default_factory=RunOptions)
    use_gpus: bool = True  # False: no job asks for a GPU (--gpus none)

    # ------------------------------------------------------------------ requests

    def request(self, ray: Any) -> dict[str, Any]:
        """The resources each job asks for (Ray's task options)."""
        s = self.settings
        gpus = s.gpus_per_job
        if gpus is None:
            gpus = 1.0 if self.use_gpus and ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        elif not self.use_gpus:
            gpus = 0.0
        req: dict[str, Any] = {"num_cpus": s.cpus_per_job, "num_gpus": gpus}
        if s.memory_per_job_gb:
            req["memory"] = int(s.memory_per_job_gb * 2**30)
        if s.resources:
            req["resources"] = dict(s.resources)
        return req

    @staticmethod
    def _fits(node: dict, req: dict[str, Any]) -> bool:
        have = node.get("Resources", {})
        want = {"CPU": req["num_cpus"], "GPU": req["num_gpus"], **req.get("resources", {})}
        if "memory" in req:
            want["memory"] = req["memory"]
        return all(have.get(k, 0) >= v for k, v in want.items() if v)

    def _placeable(self, ray: Any, req: dict[str, Any]) -> bool:
        return any(n.get("Alive") and self._fits(n, req) for n in ray.nodes())

    @staticmethod
    def _describe(req: dict[str, Any]) -> str:
        parts = [f"{req['num_cpus']:g} CPU", f"{req['num_gpus']:g} GPU"]
        if "memory" in req:
            parts.append(f"{req['memory'] / 2**30:g} GiB memory")
        parts += [f"{v:g} {k}" for k, v in req.get("resources", {}).items()]
        return ", ".join(parts)

    # ------------------------------------------------------------------ data

    def _payloads(self, ray: Any, jobs: Sequence[Job]) -> dict[Path, Any]:
        """Each submission and dataset once: a shared path as text, or an object ref."""
        refs: dict[Path, Any] = {}
        for job in jobs:
            for path in (job.code, job.task_dir):
                if path in refs:
                    continue
                if self.settings.is_shared(path):
                    refs[path] = str(path)
                elif path.is_file():  # a zip submission travels as it is
                    refs[path] = ray.put(path.read_bytes())
                else:
                    refs[path] = ray.put(pack(path))
        return refs

    def _receive(self, job: Job, result_dict: dict, archive: bytes) -> RunResult:
        """Put a node's run folder in place; ``result.json`` last, as a local run does."""
        from autodl.challenge.aside import discard, make_aside, swap_in

        staged = make_aside(job.run_dir)  # a hidden sibling, swapped in when complete
        try:
            unpack(archive, staged)
            stage_input(job.task_dir, RunFolder(staged).input_data)
            swap_in(staged, job.run_dir)
        except BaseException:
            discard(staged)
            raise
        result = RunResult.from_dict(result_dict)
        result.run_dir = str(job.run_dir)
        write_result(job.run_dir, result)
        return result

    @staticmethod
    def _lost(job: Job, reason: str) -> RunResult:
        """Record a job that no node could finish (nothing of it came back)."""
        from autodl.challenge.aside import make_aside, swap_in

        staged = make_aside(job.run_dir)
        RunFolder(staged).logs.mkdir()
        swap_in(staged, job.run_dir)
        result = RunResult(
            submission=job.submission,
            dataset=job.dataset,
            status=Status.ERROR,
            error=reason,
            time_budget=job.time_budget,
            finished_at=time.time(),
            run_dir=str(job.run_dir),
            extra={"lost": True},
        )
        write_result(job.run_dir, result)
        return result

    # ------------------------------------------------------------------ running

    def run(
        self, jobs: Sequence[Job], *, on_event: OnEvent, display: Any = None
    ) -> tuple[list[RunResult], bool]:
        if not jobs:
            return [], False
        ray = import_ray()
        ours = not ray.is_initialized()  # a caller's own connection stays open
        if ours:
            try:
                ray.init(
                    address=self.address,
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                    include_dashboard=False,
                    configure_logging=True,
                )
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = self.address or "a local Ray instance"
                raise RunnerError(f"cannot reach the Ray cluster ({where}): {e}") from None
        try:
            return self._run(ray, list(jobs), on_event, display)
        finally:
            if ours:
                ray.shutdown()

    def _run(
        self, ray: Any, jobs: list[Job], on_event: OnEvent, display: Any
    ) -> tuple[list[RunResult], bool]:
        from autodl.challenge.ray_node import NodeJob, execute

        req = self.request(ray)
        if not self._placeable(ray, req):
            raise RunnerError(
                f"no node of the Ray cluster has what a job asks for ({self._describe(req)}); "
                "change the challenge's cluster section or add such a node"
            )
        options = RunOptions(
            docker_image=self.options.docker_image,
            sandbox=self.options.sandbox,
            threads_per_job=max(1, int(self.settings.cpus_per_job)),
        )
        task = ray.remote(execute).options(
            **req, max_retries=self.settings.max_retries, retry_exceptions=False
        )
        pending: dict[Any, _Running] = {}
        results: dict[int, RunResult] = {}

        def finish(run: _Running, result: RunResult) -> None:
            results[run.index] = result
            on_event(JobEvent("done", run.job, result, len(results), len(jobs)))

        try:
            board = _board_actor(ray)
            payloads = self._payloads(ray, jobs)
            for i, job in enumerate(jobs):
                spec = NodeJob(str(job.run_dir), job, options, code_is_zip=job.code.is_file())
                ref = task.remote(spec, payloads[job.code], payloads[job.task_dir], board)
                pending[ref] = _Running(job, i)
            self._loop(ray, pending, board, req, finish, display)
        except KeyboardInterrupt:
            self._cancel(ray, pending, finish)
            return [results[i] for i in sorted(results)], True
        return [results[i] for i in sorted(results)], False

    def _collect(self, ray: Any, ref: Any, run: _Running) -> RunResult:
        """A finished task's result, put in place, or the job recorded as lost."""
        from ray import exceptions as rex

        try:
            result_dict, archive = ray.get(ref)
        except rex.TaskCancelledError:
            raise
        except rex.RayTaskError as e:  # our own code failed on the node (no retry)
            cause = getattr(e, "cause", None) or e
            return self._lost(run.job, f"the job failed on its Ray node: {cause}")
        except rex.RayError as e:  # worker or node died, object lost: tries spent
            tries = self.settings.max_retries + 1
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return self._lost(
                run.job, f"lost on the cluster after {tries} tries ({type(e).__name__}): {first}"
            )
        try:
            return self._receive(run.job, result_dict, archive)
        except ShippingError as e:  # what came back could land outside its folder
            return self._lost(run.job, f"the run folder from its node was refused: {e}")

    def _loop(self, ray: Any, pending: dict, board: Any, req: dict, finish, display) -> None:
        last_nodes = 0.0
        while pending:
            # Back as soon as one task ends (not at the poll's end), with every other done.
            ready, rest = ray.wait(list(pending), num_returns=1, timeout=POLL)
            if ready and rest:
                ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            for ref in ready:
                run = pending.pop(ref)
                finish(run, self._collect(ray, ref, run))
            now = time.monotonic()
            self._progress(ray, pending, board, display, now)
            for ref, run in list(pending.items()):
                limit = job_limit(run.job, self.options)
                if run.started_at is not None and now - run.started_at > limit:
                    ray.cancel(ref, force=True)
                    pending.pop(ref)
                    finish(
                        run, self._lost(run.job, f"lost: no answer from its node in {limit:g} s")
                    )
            if pending and now - last_nodes > 5.0:
                last_nodes = now
                self._check_nodes(ray, pending, req, finish, now)

    def _progress(self, ray: Any, pending: dict, board: Any, display: Any, now: float) -> None:
        try:
            states = ray.get(board.snapshot.remote(), timeout=5)
        except Exception:  # progress is a convenience; the jobs go on without it
            return
        for run in pending.values():
            key = str(run.job.run_dir)
            state = states.get(key)
            if not state:
                continue
            begun = state.get("node_started_at")
            if begun is not None and begun != run.begun:  # a (re)start on a node
                run.begun = begun
                run.started_at = now
                if display is not None:
                    display.started(key, label=run.job.label, time_budget=run.job.time_budget)
            if display is not None and "rounds" in state:
                live = LiveState(
                    **{k: state[k] for k in LiveState.__dataclass_fields__ if k in state}
                )
                display.progress(
                    key,
                    round=live.rounds if live.started else None,
                    elapsed=live.elapsed if live.started else None,
                    nauc=live.nauc,
                    alc=live.alc,
                    stage=stage(live),
                )

    def _check_nodes(self, ray: Any, pending: dict, req: dict, finish, now: float) -> None:
        """Jobs that no living node can ever take are lost, not waited for forever."""
        try:
            placeable = self._placeable(ray, req)
        except Exception:
            return
        for ref, run in list(pending.items()):
            if placeable:
                run.unplaceable_since = None
                continue
            run.unplaceable_since = run.unplaceable_since or now
            if now - run.unplaceable_since > NO_NODE_GRACE:
                ray.cancel(ref, force=True)
                pending.pop(ref)
                reason = f"lost: no node of the cluster left with {self._describe(req)}"
                finish(run, self._lost(run.job, reason))

    def _cancel(self, ray: Any, pending: dict, finish) -> None:
        """Ctrl-C: cancel every outstanding task, give them time to stop their processes,
        keep what finished meanwhile, kill the rest. Nothing unfinished is recorded."""
        from ray import exceptions as rex

        for ref in pending:
            ray.cancel(ref, force=False)  # KeyboardInterrupt in the task: run_job cleans up
        end = time.monotonic() + CANCEL_GRACE
        while pending and time.monotonic() < end:
            try:
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=POLL)
            except KeyboardInterrupt:
                break  # a second Ctrl-C: no more waiting
            for ref in ready:
                run = pending.pop(ref)
                try:
                    result_dict, archive = ray.get(ref)
                except (rex.RayError, KeyboardInterrupt):
                    continue
                finish(run, self._receive(run.job, result_dict, archive))
        for ref in pending:
            ray.cancel(ref, force=True)
        pending.clear()
