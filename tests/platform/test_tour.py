"""The product tour script (scripts/tour.py): its step list and its tool check.

The tour itself drives Chromium and a `xeno demo` server for a few minutes; these checks
only keep the script's parts consistent and fast to verify.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "tour.py"


@pytest.fixture(scope="module")
def tour() -> ModuleType:
    spec = importlib.util.spec_from_file_location("xeno_tour", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_steps_are_numbered_in_order_and_narrated(tour):
    stems = [stem for stem, _ in tour.STEPS]
    assert stems == [f"{n:02d}-{stem[3:]}" for n, stem in enumerate(stems, 1)]
    assert 12 <= len(stems) <= 18
    assert set(tour.DOC_SHOTS) <= set(stems)
    words = sum(len(text.split()) for _, text in tour.STEPS)
    assert 450 <= words <= 900  # about 3 to 5 minutes at espeak-ng's 150 words a minute


def test_narration_fills_in_figures_and_survives_a_missing_one(tour):
    facts = tour.Facts({"customers": 3002})
    assert "3002 customers" in facts.narration("{customers} customers")
    assert "{" not in facts.narration("{nowhere} to be seen")
    assert tour.spoken_number("₹2,21,48,802.50") == 22148802
    assert tour.spoken_number("397 matches for “Mumbai”") == 397


def test_missing_tools_print_the_install_line_and_fail(tour, monkeypatch, capsys):
    monkeypatch.setattr(tour.os.path, "exists", lambda path: True)
    monkeypatch.setattr(tour.shutil, "which", lambda tool: None)
    assert tour.main(["--out", "unused"]) == 2
    assert "apt-get install -y espeak-ng ffmpeg" in capsys.readouterr().err
