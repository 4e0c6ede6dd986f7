"""The tracking store: which URI a setting means, and stores refused before MLflow retries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nexus.tracking.store import Store, TrackingError, is_remote, plain_failure, tracking_uri

ROOT = Path("/projects/p")


@pytest.mark.parametrize(
    ("configured", "env", "expected"),
    [
        pytest.param(None, None, "sqlite:////projects/p/mlflow.db", id="default"),
        pytest.param(None, "http://h:5000", "http://h:5000", id="environment"),
        pytest.param("sqlite:///runs.db", None, "sqlite:////projects/p/runs.db", id="sqlite-rel"),
        pytest.param(
            "sqlite:///sub/dir/r.db",
            "http://x",
            "sqlite:////projects/p/sub/dir/r.db",
            id="sqlite-rel-nested",
        ),
        pytest.param("sqlite:////abs/r.db", None, "sqlite:////abs/r.db", id="sqlite-absolute"),
        pytest.param("sqlite:///:memory:", None, "sqlite:///:memory:", id="sqlite-memory"),
        pytest.param("mlruns", None, "/projects/p/mlruns", id="folder-rel"),
        pytest.param("./out/mlruns", None, "/projects/p/out/mlruns", id="folder-dot"),
        pytest.param("/abs/mlruns", None, "/abs/mlruns", id="folder-absolute"),
        pytest.param("http://127.0.0.1:9", None, "http://127.0.0.1:9", id="server"),
        pytest.param("databricks", None, "databricks", id="databricks"),
        pytest.param("databricks-uc", None, "databricks-uc", id="databricks-uc"),
    ],
)
def test_a_relative_tracking_uri_is_taken_from_the_project_root(
    monkeypatch: pytest.MonkeyPatch, configured: str | None, env: str | None, expected: str
) -> None:
    if env is None:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", env)
    assert tracking_uri(configured, ROOT) == expected


@pytest.mark.parametrize(
    ("uri", "remote"),
    [
        ("sqlite:////x/m.db", False),
        ("file:///x/mlruns", False),
        ("/x/mlruns", False),
        ("http://h:5000", True),
        ("https://h", True),
        ("databricks://profile", True),
        ("databricks", True),
    ],
)
def test_servers_are_told_from_local_stores(uri: str, remote: bool) -> None:
    assert is_remote(uri) is remote


def _folder(tmp: Path) -> Path:
    (tmp / "mlflow.db").mkdir()
    return tmp / "mlflow.db"


def _read_only(tmp: Path) -> Path:
    (tmp / "mlflow.db").write_bytes(b"")
    (tmp / "mlflow.db").chmod(0o444)
    return tmp / "mlflow.db"


def _read_only_folder(tmp: Path) -> Path:
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o555)
    return tmp / "ro" / "mlflow.db"


@pytest.mark.parametrize(
    ("make", "says", "needs_non_root"),
    [
        pytest.param(_folder, "is a folder, not a SQLite file", False, id="folder"),
        pytest.param(_read_only, "cannot be written", True, id="read-only-file"),
        pytest.param(_read_only_folder, "in a folder that cannot be written", True, id="ro-dir"),
    ],
)
def test_a_sqlite_store_that_cannot_work_is_refused_in_one_message(
    tmp_path: Path, make, says: str, needs_non_root: bool
) -> None:
    if needs_non_root and os.geteuid() == 0:
        pytest.skip("root writes read-only files: nothing to refuse")
    database = make(tmp_path)
    with pytest.raises(TrackingError) as caught:
        Store(f"sqlite:///{database}", tmp_path)
    assert str(caught.value).startswith(f"the MLflow store {database} {says}")
    assert "tracking.uri" in str(caught.value)


REFUSED = (
    "MlflowException: API request to http://127.0.0.1:9/api/2.0/mlflow/experiments/search failed "
    "with exception HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
    '/api/2.0/mlflow/experiments/search (Caused by NewConnectionError("HTTPConnection(host='
    "'127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] Connection refused\"))"
)


@pytest.mark.parametrize(
    ("text", "uri", "expected"),
    [
        pytest.param(
            REFUSED,
            "http://127.0.0.1:9",
            "the tracking server at http://127.0.0.1:9 did not answer (connection refused)",
            id="refused",
        ),
        pytest.param(
            "MlflowException: ... HTTPConnectionPool(host='nohost.invalid', port=80): Max retries "
            "exceeded ... [Errno -2] Name or service not known",
            "http://nohost.invalid",
            "the tracking server at http://nohost.invalid did not answer (unknown host)",
            id="unknown-host",
        ),
        pytest.param(
            "a store that refuses this",
            "sqlite:///x.db",
            "a store that refuses this",
            id="local-as-is",
        ),
        pytest.param(
            "PermissionError: denied", "http://h:5000", "PermissionError: denied", id="other-as-is"
        ),
    ],
)
def test_a_server_that_did_not_answer_is_said_in_a_few_words(
    text: str, uri: str, expected: str
) -> None:
    assert plain_failure(text, uri) == expected
