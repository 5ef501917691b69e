"""The book driver's timings: two drivers on disjoint chapters of one profile lose no entry."""

from __future__ import annotations

import pytest

from infantpose.book import CHAPTERS
from infantpose.book.run import (
    _record_chapter,
    _with_chapter_files,
    _write_timings,
    read_timings,
    timings_path,
)
from infantpose.config import load_profile


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("INFANTPOSE_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _entry(seconds: float) -> dict:
    return {"seconds": seconds, "budget_s": 10.0, "over_budget": False, "status": "ok"}


def test_a_stale_timings_file_does_not_hide_another_drivers_newer_chapter(runs):
    profile = load_profile("smoke")
    a, b, c = CHAPTERS[1], CHAPTERS[2], CHAPTERS[3]
    _write_timings(profile, {a: _entry(1), b: _entry(2), c: _entry(3)})  # an earlier run
    # driver X (started before) reruns `a`; driver Y reruns `b` and finishes first
    _record_chapter(profile.name, b, _entry(20))
    _write_timings(profile, _with_chapter_files(profile.name, read_timings("smoke")["chapters"]))
    # X still holds the old view of `b`, writes what it saw plus its own `a`
    _record_chapter(profile.name, a, _entry(10))
    stale = {a: _entry(10), b: _entry(2), c: _entry(3)}
    _write_timings(profile, stale)
    assert read_timings("smoke")["chapters"][b]["seconds"] == 2  # the race this guards against
    merged = _with_chapter_files(profile.name, read_timings("smoke")["chapters"])
    assert {k: v["seconds"] for k, v in merged.items()} == {a: 10, b: 20, c: 3}
    payload = _write_timings(profile, merged)
    assert payload["total_s"] == 33 and timings_path("smoke").is_file()


def test_a_failed_chapter_forgets_its_timing_file(runs):
    name = CHAPTERS[0]
    _record_chapter("smoke", name, _entry(5))
    assert _with_chapter_files("smoke", {})[name]["seconds"] == 5
    _record_chapter("smoke", name, None)
    assert name not in _with_chapter_files("smoke", {})
