"""``make lab`` configures JupyterLab so the text chapters open as notebooks."""

from __future__ import annotations

import json

from infantpose.lab import LAB_OVERRIDES, missing_lab_extensions, write_lab_settings


def test_lab_settings_merge_into_existing_overrides(tmp_path):
    path = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}})
    )
    write_lab_settings(tmp_path)
    settings = json.loads(path.read_text())
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == LAB_OVERRIDES["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]


def test_the_lab_extensions_for_jupytext_widgets_and_plotly_are_installed():
    assert missing_lab_extensions() == []


def test_missing_extensions_are_reported(tmp_path):
    assert "jupyterlab-jupytext" in missing_lab_extensions(tmp_path)
