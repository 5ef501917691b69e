"""The waits of a distributed run: rank 0 makes the data while the others wait with a timeout
sized to it, its errors reach them at once, and a wait past the timeout says what to change.
Two gloo processes on the CPU (torch.multiprocessing), a few seconds in all."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
import torch
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, folder: str) -> None:
    from pathlib import Path

    from infantpose.pose2d.distributed import from_env

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2",
                      RANK=str(rank), LOCAL_RANK=str(rank))  # fmt: skip
    torch.set_num_threads(1)
    context = from_env(torch.device("cpu"), batch_size=4, timeout_s=60)
    made = Path(folder) / "made.txt"
    results = {}

    def make():  # a load-or-make: rank 0 makes it slowly, the others load it
        if not made.exists():
            time.sleep(1.0)
            made.write_text("data")
        return made.read_text()

    def fail():
        raise ValueError("cannot render")

    def slow():
        time.sleep(4.0)
        return "late"

    results["made"] = context.main_first(make, timeout_s=30, what="the test data")
    for name, job, timeout in (("failed", fail, 30), ("timeout", slow, 1)):
        try:
            context.main_first(job, timeout_s=timeout, what="the test data")
            results[name] = "no error"
        except Exception as error:
            results[name] = f"{type(error).__name__}: {error}"
    (Path(folder) / f"rank{rank}.json").write_text(json.dumps(results))


@pytest.mark.slow
def test_rank_0_makes_the_data_while_the_others_wait_with_a_timeout(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["made"] for r in ranks] == ["data", "data"]
    assert ranks[0]["failed"] == "ValueError: cannot render"
    assert ranks[1]["failed"].startswith("RuntimeError: rank 0 failed to make the test data")
    assert (
        "rank 1 waited for rank 0 to make the test data: more than the 1 s" in ranks[1]["timeout"]
    )
    assert "raise the timeout" in ranks[1]["timeout"]
    assert "the other ranks stopped waiting" in ranks[0]["timeout"]


def test_the_adult_sets_wait_is_sized_to_the_rendering():
    from infantpose.pose2d.experiment import render_timeout_s

    assert render_timeout_s(0) >= 1800  # never below the process group's own timeout
    assert render_timeout_s(22_000) > 6 * 3600  # paper size: hours, not NCCL's 10 minutes


def test_a_resumed_run_restores_only_the_gpus_it_sees(monkeypatch):
    """Saved on 4 GPUs, resumed where this process sees 2: the first two generators are
    restored (CUDA faked); states that a GPU map_location put on the device go back to the
    CPU byte tensors generators take."""
    from infantpose.pose2d import train

    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, i: restored.append((i, s.device)))
    state = torch.get_rng_state()
    train._set_rng_state({"torch": state, "cuda": [state.clone() for _ in range(4)]})
    assert restored == [(0, torch.device("cpu")), (1, torch.device("cpu"))]
    assert torch.equal(torch.get_rng_state(), state)
