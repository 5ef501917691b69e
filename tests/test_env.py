"""Notebook setup: seeding, device choice from the config, offline plotly, environment report."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch

from infantpose.env import (
    env_report,
    environment,
    register_offline_plotly_renderer,
    resolve_device,
    setup_notebook,
)
from infantpose.runs import read_metrics, record_metrics


def test_setup_notebook_seeds_every_generator():
    setup_notebook(seed=3, device="cpu")
    first = (np.random.rand(), torch.rand(1).item())  # noqa: NPY002 - the legacy global generator is under test
    setup_notebook(seed=3, device="cpu")
    assert (np.random.rand(), torch.rand(1).item()) == first  # noqa: NPY002


def test_device_comes_from_the_config():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_is_an_error_not_a_silent_fallback():
    with pytest.raises(RuntimeError, match="set `device: cpu`"):
        resolve_device("cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device_resolves_on_a_gpu_machine():
    assert resolve_device("cuda").type == "cuda"


def test_offline_renderer_inlines_the_figure_without_cdn_scripts():
    setup_notebook(seed=0, device="cpu")
    assert pio.renderers.default == f"plotly_mimetype+{register_offline_plotly_renderer()}"
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    bundle = pio.renderers[register_offline_plotly_renderer()].to_mimebundle(fig.to_dict())
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html
    assert "cdnjs" not in html and "mathjax/3" not in html


def test_environment_names_versions_device_and_commit(capsys):
    info = environment()
    assert {"python", "torch", "infantpose", "cuda", "git_commit"} <= set(info)
    env_report()
    assert "torch" in capsys.readouterr().out


def test_metrics_round_trip_with_provenance_and_environment(tmp_path):
    run = tmp_path / "smoke" / "00-measuring-pose"
    record_metrics(run, {"ap": 0.5}, data="embedded", seeds=3, selection="validation split")
    saved = read_metrics(run)
    assert saved["notebook"] == "00-measuring-pose" and saved["profile"] == "smoke"
    assert saved["metrics"] == {"ap": 0.5} and saved["seeds"] == 3
    assert saved["environment"]["torch"].startswith("2.13")
