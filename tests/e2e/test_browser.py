"""What a user sees: the MLflow UI, in headless Chromium, showing a sweep of the demo.

The sweep is recorded as usual (in the project's `mlflow.db`), then `mlflow server` is started
over that store, as `mlflow ui` would be in the project root. The browser does what a person
does: switch the UI to model training, open the experiment, show the latency parameter and
the RMSE as columns, expand the sweep's run. The test reads the table as rendered, and saves
a screenshot under `tests/artifacts/` (git-ignored).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from browser import CHROMIUM, Chromium
from e2e_helpers import REPO, nexus, params, tags
from scale_helpers import LATENCIES, latency_sweep, make_short_demo

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium; .ci/run does)"
)

ARTIFACTS = REPO / "tests" / "artifacts"
PARAM, METRIC = "pipeline.latency_to_compensate_s", "rmse"

CLICK_TEXT = """((text) => {
  const hits = [...document.querySelectorAll('body *')]
    .filter(e => e.textContent.trim() === text && e.offsetParent !== null);
  const target = hits[hits.length - 1];  // the innermost element showing exactly this text
  if (!target) return false;
  (target.closest('button, a, label, [role=button]') || target).click();
  return true;
})"""
TABLE = """(() => {
  const rows = {};
  document.querySelectorAll('.ag-row[row-id]').forEach(row => {
    const cells = rows[row.getAttribute('row-id')] ||= {};
    row.querySelectorAll('.ag-cell[col-id]').forEach(cell => {
      cells[cell.getAttribute('col-id')] = cell.innerText.trim();
    });
  });
  return rows;
})()"""


@pytest.fixture
def served_sweep(tmp_path: Path, mlflow_server_for):
    """A server over a store holding one 3-job sweep of the (shortened) demo."""
    project = make_short_demo(tmp_path)
    result = nexus(project, *latency_sweep())
    assert result.code == 0, result.stderr
    return mlflow_server_for(f"sqlite:///{project / 'mlflow.db'}", project)


@pytest.fixture
def browser():
    chromium = Chromium(width=1920, height=1080)
    yield chromium
    chromium.close()


def _click(browser: Chromium, text: str) -> bool:
    """Click what shows exactly `text`, as a person would; False when nothing does."""
    return bool(browser.evaluate(f"{CLICK_TEXT}({json.dumps(text)})"))


def _exists(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)})"


def _open_experiment(browser: Chromium, url: str, experiment_id: str, shows: str) -> None:
    """Home page, 'Model training', the experiments list, the experiment: its runs table."""
    browser.open(f"{url}/")
    browser.wait_for("document.body.innerText.includes('Experiments')", what="MLflow's home page")
    _click(browser, "Model training")  # MLflow 3 opens on GenAI; runs live under model training
    browser.open(f"{url}/#/experiments")
    link = f'a[href$="/experiments/{experiment_id}"]'
    browser.wait_for(_exists(link), what="the experiment in the list")
    browser.evaluate(f"{_exists(link)}.click()")
    browser.wait_for(f"document.body.innerText.includes({json.dumps(shows)})", what=shows)
    close = 'button[aria-label="Close"][data-component-id^="mlflow.assistant"]'
    browser.evaluate(f"{_exists(close)}?.click()")  # the assistant's side panel, when open


def _show_columns(browser: Chromium, *names: str) -> None:
    """Columns > tick each name > close the menu."""
    assert _click(browser, "Columns")
    browser.wait_for("document.body.innerText.includes('Parameters (')", what="the column menu")
    for name in names:
        assert _click(browser, name), name
    escape = "new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})"
    browser.evaluate(f"document.dispatchEvent({escape})")


def _expand(browser: Chromium, run_id: str, children: list[str]) -> None:
    """Click the run's expander; wait for its children's rows."""
    expander = f'.ag-row[row-id="{run_id}"] [col-id*="Run Name"] button'
    browser.wait_for(_exists(expander), what="the sweep's expander")
    browser.evaluate(f"{_exists(expander)}.click()")
    rows = " && ".join(_exists(f'.ag-row[row-id="{child}"]') for child in children)
    browser.wait_for(rows, what="the sweep's child runs")


def test_the_experiment_page_shows_the_sweep_and_its_children(served_sweep, browser, tmp_path):
    server = served_sweep
    experiment_id = server.experiment("demo")["experiment_id"]
    runs = {r["info"]["run_id"]: r for r in server.runs(experiment_id)}
    [parent] = [i for i, r in runs.items() if tags(r).get("nexus.kind") == "sweep"]
    latency_of = {i: params(r)[PARAM] for i, r in runs.items() if i != parent}
    assert sorted(latency_of.values()) == list(LATENCIES)

    _open_experiment(browser, server.url, experiment_id, tags(runs[parent])["mlflow.runName"])
    _show_columns(browser, PARAM, METRIC)
    _expand(browser, parent, list(latency_of))

    table = browser.evaluate(TABLE)
    param_column, metric_column = f"params.`{PARAM}`", f"metrics.`{METRIC}`"
    assert "demo sweep" in table[parent]["attributes.`Run Name`"]
    assert table[parent][param_column] == "-"  # the parent holds no latency of its own
    for run_id, latency in latency_of.items():
        row = table[run_id]
        assert row[param_column] == latency
        assert 0 < float(row[metric_column]) < 2
        assert f"{PARAM.removeprefix('pipeline.')}={latency}" in row["attributes.`Run Name`"]

    shot = browser.screenshot(tmp_path / "mlflow-ui-sweep.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    kept = shutil.copy(shot, ARTIFACTS / shot.name)
    print(f"screenshot of the MLflow UI: {kept}")


def test_the_page_nexus_prints_opens_on_the_runs_table(served_sweep, browser):
    """No switch to click: the address nexus prints shows the runs, not the GenAI overview."""
    from nexus.tracking.store import runs_page

    server = served_sweep
    experiment_id = server.experiment("demo")["experiment_id"]
    [parent] = [
        r["info"]["run_id"]
        for r in server.runs(experiment_id)
        if tags(r).get("nexus.kind") == "sweep"
    ]

    browser.open(runs_page(server.url, experiment_id))

    browser.wait_for(_exists(f'.ag-row[row-id="{parent}"]'), what="the sweep's row in the runs")
    assert "/runs" in browser.evaluate("location.href")
