"""progress_bar's modes and quiet switch; where the package's log records go."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from infantpose.logs import log_to_file
from infantpose.progress import PROGRESS_ENV, progress_bar, progress_mode


def test_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert progress_mode() == "auto"
    monkeypatch.setenv(PROGRESS_ENV, " Log ")
    assert progress_mode() == "log"
    monkeypatch.setenv(PROGRESS_ENV, "loud")
    with pytest.raises(ValueError, match="INFANTPOSE_PROGRESS='loud': use one of auto, log, off"):
        progress_mode()


@pytest.mark.parametrize("mode", ["auto", "off", "log"])
def test_a_quiet_caller_gets_no_output_in_any_mode(mode, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(PROGRESS_ENV, mode)
    with log_to_file(tmp_path / "run.log") as path:
        assert list(progress_bar(range(4), desc="quiet loop", enabled=False)) == [0, 1, 2, 3]
    captured = capsys.readouterr()
    assert "quiet loop" not in captured.out + captured.err + path.read_text()


def test_off_silences_and_auto_draws(monkeypatch, capsys):
    monkeypatch.setenv(PROGRESS_ENV, "off")
    assert sum(progress_bar(range(5), desc="silent")) == 10
    assert "silent" not in capsys.readouterr().err
    monkeypatch.setenv(PROGRESS_ENV, "auto")
    bar = progress_bar(total=3, desc="drawn", unit="img")
    bar.update(3)
    bar.close()
    assert "drawn" in capsys.readouterr().err and "3/3" not in capsys.readouterr().out


def test_log_mode_writes_lines_to_the_log_file_not_the_screen(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(PROGRESS_ENV, "log")
    with log_to_file(tmp_path / "run.log") as path:
        with progress_bar(total=2, desc="fit 2 bodies", unit="stage", leave=False) as bar:
            bar.update(2)
            bar.set_postfix(loss="0.1")
    text = path.read_text()
    # the last line stays, even of a bar that vanishes from a screen when done
    assert (
        "infantpose.progress: fit 2 bodies: 100%" in text and "2/2" in text and "loss=0.1" in text
    )
    assert "\r" not in text
    captured = capsys.readouterr()
    assert "fit 2 bodies" not in captured.out + captured.err


def test_nested_bars_leave_no_terminal_codes_in_the_log(monkeypatch, tmp_path):
    monkeypatch.setenv(PROGRESS_ENV, "log")
    with log_to_file(tmp_path / "run.log") as path:
        with progress_bar(total=1, desc="train", unit="epoch") as outer:
            with progress_bar(total=3, desc="epoch 1/1", unit="step", position=1) as inner:
                inner.update(3)
            outer.update(1)
    text = path.read_text()
    assert "epoch 1/1: 100%" in text and "train: 100%" in text
    assert "\x1b" not in text and "[A" not in text  # tqdm moves the cursor up for nested bars


def test_import_sets_up_screen_and_run_log(tmp_path):
    """A fresh interpreter, as a notebook kernel of the book run sees it: INFO lines on stdout
    (where the prints were), warnings on stderr, progress and DEBUG only in the file."""
    script = (
        "import logging, infantpose\n"
        "from infantpose.progress import progress_bar\n"
        "log = logging.getLogger('infantpose.pose2d.train')\n"
        "log.info('epoch 1/2  loss_pose 0.01')\n"
        "log.debug('reusing the adult model')\n"
        "log.warning('over budget')\n"
        "for _ in progress_bar(range(2), desc='train', unit='epoch'):\n"
        "    pass\n"
    )
    env = {
        **os.environ,
        "INFANTPOSE_LOG_FILE": str(tmp_path / "runs" / "infantpose.log"),
        PROGRESS_ENV: "log",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout == "epoch 1/2  loss_pose 0.01\n"
    assert out.stderr == "over budget\n"
    log = (tmp_path / "runs" / "infantpose.log").read_text()
    for expected in ("INFO infantpose.pose2d.train: epoch 1/2", "DEBUG", "reusing", "train: 100%"):
        assert expected in log, expected


def test_records_reach_pytest_and_applications_that_configure_logging(caplog):
    with caplog.at_level(logging.INFO, logger="infantpose"):
        logging.getLogger("infantpose.synthesis.cache").info("making a set")
    assert "making a set" in caplog.text
