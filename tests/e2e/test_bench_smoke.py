"""`python -m bench --smoke` from the repository root: every bench still runs and prints well-formed figures.

Timings are not checked here (DESIGN §5: benchmarks are not timed tests); only that each line is a JSON object
with the keys tools read, and that every bench reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCHES = {"relay", "tick", "quota", "ack", "intake", "footprint", "report", "failover", "suggest", "store"}
KEYS = {"bench", "metric", "value", "unit", "floor", "target", "met"}


def test_every_bench_runs_and_prints_json_lines() -> None:
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=REPO,  # bench/ is a folder beside bridge/, not an installed package
        env=env,
        capture_output=True,
        text=True,
        timeout=360,  # failover starts a PostgreSQL server and five bridge processes
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    figures = [json.loads(line) for line in lines]
    for figure in figures:
        assert isinstance(figure, dict) and figure.keys() >= KEYS, figure
        assert isinstance(figure["bench"], str) and isinstance(figure["metric"], str)
        assert figure["value"] is None or isinstance(figure["value"], int | float)
        assert figure["floor"] is None or isinstance(figure["floor"], int | float)
        assert isinstance(figure["unit"], str) and isinstance(figure["target"], str) and figure["target"]
        assert figure["met"] is None  # a smoke run is too small to judge a target by
    assert {f["bench"] for f in figures} == BENCHES
    assert len({(f["bench"], f["metric"]) for f in figures}) == len(figures)  # one line per figure


def test_the_soak_bench_runs_on_request_and_names_what_grew() -> None:
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "soak"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    [figure] = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert (figure["bench"], figure["metric"], figure["unit"]) == ("soak", "rss_spread_after_warmup", "%")
    params = figure["params"]
    assert params["tasks"] > 0 and params["comments"] > 0 and params["rss_after_warmup_mb"] > 0
    assert params["grew_most"] and all(" KB (" in line for line in params["grew_most"])
