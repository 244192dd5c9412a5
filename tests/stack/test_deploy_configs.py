"""The committed deploy files: nginx config, systemd units, env.example."""

import configparser
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
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

SYSTEMD = REPO / "deploy" / "systemd"
UNIT = SYSTEMD / "taskapi@.service"
PURGE_SERVICE = SYSTEMD / "taskapi-purge.service"
PURGE_TIMER = SYSTEMD / "taskapi-purge.timer"
WEBHOOKS_WORKER = SYSTEMD / "taskapi-webhooks@.service"
# Where ExecStart expects the app's virtualenv on a host (deploy/systemd/*.service).
HOST_VENV_BIN = "/opt/taskapi/venv/bin"
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


def _directives(text: str) -> dict[str, dict[str, list[str]]]:
    """Every value of every key, per section (configparser keeps only the last of a repeated
    key such as Environment=). Keys before any section header go under ""."""
    sections: dict[str, dict[str, list[str]]] = {"": {}}
    section = sections[""]
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(" ".join(value.split()))
    return sections


def _hardening(unit: Path) -> dict[str, list[str]]:
    """The keys under the unit's `# --- Hardening` heading."""
    text = unit.read_text()
    return _directives(text[text.index("# --- Hardening") : text.index("[Install]")])[""]


def _systemd_analyze() -> str:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail(f"systemd-analyze is missing: apt-get install -y systemd ({INSTALL_HINT})")
    return analyze


def _verify_and_rate(units: list[Path], service: Path) -> None:
    """systemd-analyze verify says nothing about `units`, and rates `service` locked down."""
    analyze = _systemd_analyze()
    verified = subprocess.run([analyze, "verify", *map(str, units)], capture_output=True, text=True)
    security = subprocess.run(
        [analyze, "security", "--offline=true", "--threshold=20", str(service)],
        capture_output=True,
        text=True,
    )

    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == ""
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)[1])
    assert exposure <= 2.0, security.stdout  # systemd's scale: 0 (locked down) to 10 (exposed)


def test_systemd_analyze_verifies_the_unit(tmp_path):
    # verify checks that ExecStart exists: point it at this checkout's Uvicorn.
    unit = tmp_path / "taskapi@8001.service"
    uvicorn = Path(sys.executable).parent / "uvicorn"
    unit.write_text(UNIT.read_text().replace(f"{HOST_VENV_BIN}/uvicorn", str(uvicorn)))

    _verify_and_rate([unit], unit)


def test_systemd_analyze_verifies_the_purge_service_and_timer(tmp_path):
    # verify checks that ExecStart exists: point it at this checkout's Python.
    service = tmp_path / PURGE_SERVICE.name
    service.write_text(PURGE_SERVICE.read_text().replace(f"{HOST_VENV_BIN}/python", sys.executable))
    timer = tmp_path / PURGE_TIMER.name
    timer.write_text(PURGE_TIMER.read_text())

    _verify_and_rate([service, timer], service)


def test_the_purge_service_runs_purge_expired_once_with_the_servers_code_and_environment():
    purge = _directives(PURGE_SERVICE.read_text())["Service"]
    server = _directives(UNIT.read_text())["Service"]

    assert purge["Type"] == ["oneshot"]
    assert shlex.split(server["ExecStart"][0])[0].startswith(f"{HOST_VENV_BIN}/")
    assert shlex.split(purge["ExecStart"][0]) == [
        f"{HOST_VENV_BIN}/python",
        f"{server['WorkingDirectory'][0]}/manage.py",
        "purge_expired",
    ]
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile"):
        assert purge[key] == server[key], key
    settings = [item for item in server["Environment"] if item.startswith("DJANGO_SETTINGS_")]
    assert settings
    assert set(settings) <= set(purge["Environment"])


# Not hardening for a short batch process, which opens a handful of files and sockets.
SERVER_ONLY = {"LimitNOFILE"}


def test_the_purge_service_keeps_every_hardening_option_of_the_server_unit():
    purge = _directives(PURGE_SERVICE.read_text())["Service"]
    server = _hardening(UNIT)

    assert len(server) > 20, "the server unit's hardening block was not found"
    for key, values in server.items():
        if key not in SERVER_ONLY:
            assert purge.get(key) == values, key
    # It connects out to PostgreSQL and never listens.
    assert purge["SocketBindDeny"] == ["any"]


def test_systemd_analyze_verifies_the_webhooks_worker_unit(tmp_path):
    # verify checks that ExecStart exists: point it at this checkout's Python.
    unit = tmp_path / "taskapi-webhooks@1.service"
    unit.write_text(WEBHOOKS_WORKER.read_text().replace(f"{HOST_VENV_BIN}/python", sys.executable))

    _verify_and_rate([unit], unit)


def test_the_webhooks_worker_runs_with_the_servers_code_and_environment():
    worker = _directives(WEBHOOKS_WORKER.read_text())["Service"]
    server = _directives(UNIT.read_text())["Service"]

    assert worker["Type"] == ["exec"]
    assert shlex.split(worker["ExecStart"][0]) == [
        f"{HOST_VENV_BIN}/python",
        f"{server['WorkingDirectory'][0]}/manage.py",
        "webhooks_worker",
    ]
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile"):
        assert worker[key] == server[key], key
    settings = [item for item in server["Environment"] if item.startswith("DJANGO_SETTINGS_")]
    assert settings
    assert set(settings) <= set(worker["Environment"])


def test_the_webhooks_worker_restarts_within_limits_and_stops_after_a_whole_attempt():
    unit = _directives(WEBHOOKS_WORKER.read_text())
    service = unit["Service"]

    assert service["Restart"] == ["always"]
    assert _seconds(service["RestartSec"][0]) >= 1, "no tight restart loop"
    # A crash loop ends in `failed` after a bounded number of starts.
    assert int(unit["Unit"]["StartLimitBurst"][0]) > 0
    assert _seconds(unit["Unit"]["StartLimitIntervalSec"][0]) > 0
    assert service["KillSignal"] == ["SIGTERM"]
    # One attempt takes up to WEBHOOKS_TIMEOUT (15 s); SIGKILL must not cut the usual one short.
    assert _seconds(service["TimeoutStopSec"][0]) >= 30


def test_the_webhooks_worker_keeps_its_heartbeat_in_its_own_runtime_directory():
    service = _directives(WEBHOOKS_WORKER.read_text())["Service"]
    environment = dict(item.split("=", 1) for item in service["Environment"])

    (runtime,) = service["RuntimeDirectory"]
    heartbeat = Path(environment["WEBHOOKS_HEARTBEAT_FILE"])
    # Per instance (%i), so two workers on one host never answer for each other.
    assert "%i" in runtime
    assert heartbeat.parent == Path("/run") / runtime
    # ProtectSystem=strict leaves /run read-only but for the unit's RuntimeDirectory.
    assert _hardening(WEBHOOKS_WORKER)["ProtectSystem"] == ["strict"]


def test_the_webhooks_worker_keeps_every_hardening_option_of_the_server_unit():
    worker = _directives(WEBHOOKS_WORKER.read_text())["Service"]
    server = _hardening(UNIT)

    assert len(server) > 20, "the server unit's hardening block was not found"
    for key, values in server.items():
        if key not in SERVER_ONLY:
            assert worker.get(key) == values, key
    # It connects out to receivers and PostgreSQL and never listens.
    assert worker["SocketBindDeny"] == ["any"]
    # Nor may a receiver URL that slipped past the SSRF checks reach the cloud metadata service.
    denied = " ".join(worker["IPAddressDeny"]).split()
    assert {"169.254.169.254", "fd00:ec2::254"} <= set(denied)


def _elapses(calendar: str, iterations: int) -> list[datetime]:
    """The next `iterations` times systemd's own parser says `calendar` fires, in UTC."""
    checked = subprocess.run(
        [_systemd_analyze(), "calendar", f"--iterations={iterations}", calendar],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
    )
    assert checked.returncode == 0, checked.stderr
    stamps = re.findall(
        r"^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$",
        checked.stdout,
        re.M,
    )
    return [datetime.fromisoformat(stamp) for stamp in stamps]


def _seconds(timespan: str) -> int:
    parsed = subprocess.run(
        [_systemd_analyze(), "timespan", timespan], capture_output=True, text=True
    )
    assert parsed.returncode == 0, parsed.stderr
    return int(re.search(r"μs: (\d+)", parsed.stdout)[1]) // 1_000_000


def test_the_purge_timer_starts_the_service_once_a_day_and_catches_up_after_downtime():
    timer = _directives(PURGE_TIMER.read_text())
    (calendar,) = timer["Timer"]["OnCalendar"]

    elapses = _elapses(calendar, 4)

    assert len(elapses) == 4, calendar
    assert {b - a for a, b in itertools.pairwise(elapses)} == {timedelta(days=1)}, elapses
    assert timer["Timer"].get("Unit", [PURGE_SERVICE.name]) == [PURGE_SERVICE.name]
    assert timer["Timer"]["Persistent"] == ["true"]
    # Hosts that all run the timer spread their runs instead of starting in the same second.
    assert 0 < _seconds(timer["Timer"]["RandomizedDelaySec"][0]) < 24 * 3600
    # `systemctl enable` hooks it into timers.target, so it is armed at every boot.
    assert timer["Install"]["WantedBy"] == ["timers.target"]


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
