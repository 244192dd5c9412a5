"""The committed deploy files: nginx config, systemd unit, env.example."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import REPO
from tests.support.services import (
    INSTALL_HINT,
    NGINX_DIR,
    make_tls_certificate,
    nginx_main_config,
    nginx_test,
    render_nginx_site,
)

UNIT = REPO / "deploy" / "systemd" / "taskapi@.service"
SETTINGS = REPO / "src" / "taskapi" / "settings" / "base.py"


def test_the_committed_nginx_config_is_the_template_rendered_for_production():
    assert (NGINX_DIR / "taskapi.conf").read_text() == render_nginx_site()


def test_nginx_accepts_the_config_rendered_with_private_ports(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "tmp").mkdir()
    cert, key = make_tls_certificate(tmp_path)
    site = tmp_path / "taskapi.conf"
    site.write_text(
        render_nginx_site(
            PUBLIC_LISTEN="127.0.0.1:18443 ssl http2",
            HTTP_LISTEN="127.0.0.1:18080",
            APP_1="127.0.0.1:18001",
            APP_2="127.0.0.1:18002",
            TLS_CERT=str(cert),
            TLS_KEY=str(key),
            LOG_DIR=str(tmp_path / "logs"),
        )
    )
    assert "@@" not in site.read_text()
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_main_config(tmp_path, site))

    checked = nginx_test(config, tmp_path)

    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_nginx_limits_bodies_to_the_apps_one_mebibyte():
    config = (NGINX_DIR / "taskapi.conf").read_text()

    assert re.search(r"^\s*client_max_body_size 1m;", config, re.M)
    # A POST that reached an instance is never sent to the other one too.
    retry = re.search(r"^\s*proxy_next_upstream (.*);", config, re.M)[1]
    assert "non_idempotent" not in retry


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_runs_uvicorn_unprivileged_and_hardened():
    service = _unit()["Service"]

    assert service["User"] == "taskapi"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
        "RestrictSUIDSGID": "yes",
        "Restart": "on-failure",
        "KillSignal": "SIGTERM",
    }.items():
        assert service[key] == value, key
    assert service["EnvironmentFile"].startswith("/etc/")
    assert "--host 127.0.0.1" in service["ExecStart"]
    graceful = int(re.search(r"--timeout-graceful-shutdown (\d+)", service["ExecStart"])[1])
    assert graceful < int(service["TimeoutStopSec"])


def test_systemd_analyze_verifies_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail(f"systemd-analyze is missing: apt-get install -y systemd ({INSTALL_HINT})")
    # verify checks that ExecStart exists: point it at this checkout's Uvicorn.
    unit = tmp_path / "taskapi@8001.service"
    uvicorn = Path(sys.executable).parent / "uvicorn"
    unit.write_text(UNIT.read_text().replace("/opt/taskapi/venv/bin/uvicorn", str(uvicorn)))

    verified = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    security = subprocess.run(
        [analyze, "security", "--offline=true", "--threshold=20", str(unit)],
        capture_output=True,
        text=True,
    )

    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == ""
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)[1])
    assert exposure <= 2.0, security.stdout  # systemd's scale: 0 (locked down) to 10 (exposed)


def test_env_example_lists_every_variable_the_settings_read():
    read = set(re.findall(r"env(?:\.\w+)?\(\s*['\"]([A-Z0-9_]+)['\"]", SETTINGS.read_text()))
    listed = set(
        re.findall(r"^#?([A-Z0-9_]+)=", (REPO / "deploy" / "env.example").read_text(), re.M)
    )

    assert read, "no env reads found: the pattern is stale"
    assert read <= listed, f"missing from deploy/env.example: {sorted(read - listed)}"


def test_the_deploy_scripts_are_valid_posix_shell():
    for script in (NGINX_DIR / "render.sh", REPO / "deploy" / "systemd" / "rolling-restart.sh"):
        checked = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
