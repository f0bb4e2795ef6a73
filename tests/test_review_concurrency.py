"""Concurrent review commands: the status check and the write happen under one lock."""

from __future__ import annotations

import subprocess
import sys
import time

import yaml
from conftest import subprocess_env
from review_program import entry, make_program

from kcdata.review.actions import review_lock


def _propose(root, who):
    return subprocess.Popen([sys.executable, "-m", "kcdata", "--root", str(root), "review", "propose", "a",
                             "--by", who], env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_transition_waits_for_the_review_lock(tmp_path):
    root = make_program(tmp_path / "p", {"water": [entry("a")]})
    with review_lock(root):
        proc = _propose(root, "L")
        time.sleep(1.5)
        assert proc.poll() is None  # blocked: another transition holds the lock
    assert proc.wait(timeout=60) == 0


def test_racing_transitions_one_wins(tmp_path):
    root = make_program(tmp_path / "p", {"water": [entry("a")]})
    procs = [_propose(root, f"liaison-{i}") for i in range(3)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes == [0, 5, 5]
    doc = yaml.safe_load((root / "inventory" / "water.yaml").read_text(encoding="utf-8"))
    history = doc["datasets"][0]["history"]
    assert len(history) == 1 and history[0]["from"] == "inventoried" and history[0]["to"] == "proposed"
