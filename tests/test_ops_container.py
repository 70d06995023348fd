"""The container and how the server runs in it. No container engine runs on the development
machines or in CI (no daemon, no registry to pull the base image from), so the Dockerfile is
checked with hadolint and for the properties the deployment relies on, and the server itself is
started as the image starts it: `kaohe serve` with KAOHE_DATA_DIR, asked by `kaohe health`."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install -e '.[test]')")
    done = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_keeps_its_files_in_a_volume_and_runs_unprivileged() -> None:
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert len(stages) == 2  # build stage and runtime stage
    base = re.search(r"^ARG PYTHON_IMAGE=python:(\S+)$", DOCKERFILE, re.M)
    assert base and re.fullmatch(r"3\.11\.\d+-slim-bookworm", base.group(1))  # pinned
    assert "pip install -c constraints.txt ." in DOCKERFILE  # the lock file
    user = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert user == ["10001:10001"]
    assert "chown kaohe:kaohe /data" in DOCKERFILE and "--uid 10001" in DOCKERFILE
    assert 'VOLUME ["/data"]' in DOCKERFILE and "KAOHE_DATA_DIR=/data" in DOCKERFILE
    assert re.search(r"HEALTHCHECK .*\n\s+CMD \[\"kaohe\", \"health\"\]", DOCKERFILE)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "data", "tests", ".env", "*.db"} <= set(ignored)


def test_compose_runs_postgres_and_two_instances() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    bots = [s for name, s in services.items() if name.startswith("bot")]
    assert len(bots) == 2
    for bot in bots:
        url = bot["environment"]["KAOHE_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@db:5432/" in url
        assert bot["volumes"] == ["kaohe-data:/data"]  # attachments shared by both
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in str(services["db"]["healthcheck"]["test"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_writes_only_under_the_data_dir_and_answers_health(tmp_path: Path) -> None:
    kaohe = [sys.executable, "-m", "bot"]
    port = _free_port()
    data, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAOHE_", "WECOM_"))} | {
        "KAOHE_DATA_DIR": str(data),
        "KAOHE_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [*kaohe, "serve"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 150  # a loaded CI machine starts slowly
        while True:
            health = subprocess.run(
                [*kaohe, "health", "--timeout", "1"], cwd=cwd, env=env, capture_output=True
            )
            if health.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.3)
        assert health.returncode == 0, health.stderr.decode()
        assert "正常" in health.stdout.decode()
        assert (data / "kaohe.db").is_file()
        assert list(cwd.iterdir()) == []  # nothing written beside it
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0].decode()
    assert "setup plugin" not in log and "Context impl" not in log  # Alembic's chatter hidden
    assert f"kaohe serving on http://127.0.0.1:{port}" in log
    down = subprocess.run(
        [*kaohe, "health", "--timeout", "1"], cwd=cwd, env=env, capture_output=True
    )
    assert down.returncode == 1 and "不正常" in down.stderr.decode()
