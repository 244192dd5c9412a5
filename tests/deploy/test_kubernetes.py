"""Kubernetes manifests: each overlay renders, matches the Kubernetes schemas, passes checkov's
checks, and keeps the properties a reviewer would otherwise check by hand."""

import ipaddress
import json
from pathlib import PurePosixPath

import pytest
import yaml

from tests.deploy.conftest import (
    K8S,
    OVERLAYS,
    TERRAFORM,
    assert_checkov_clean,
    checkov,
    documents,
    kustomize,
    load_hcl,
    render_release,
    run,
    venv_tool,
)

# The EKS version deploy/terraform creates (variable kubernetes_version).
KUBERNETES_VERSION = "1.33"

# Custom resources: kubernetes-validate bundles only the built-in kinds' schemas. Nothing else
# may be left unvalidated.
UNVALIDATED_KINDS = {
    "ExternalSecret": "External Secrets Operator CRD: its schema ships with the operator's chart",
    "SecretStore": "External Secrets Operator CRD: its schema ships with the operator's chart",
}

SERVER = {"kind": "Deployment", "name": "taskapi"}
MIGRATE = {"kind": "Job", "name": "taskapi-migrate"}
PURGE = {"kind": "CronJob", "name": "taskapi-purge"}
WORKER = {"kind": "Deployment", "name": "taskapi-webhooks-worker"}
# The pods' only writable path (an emptyDir): the root filesystem is read-only.
WRITABLE_TMP = "/tmp"  # noqa: S108


def pod_templates(docs: list[dict]) -> list[tuple[str, dict]]:
    """(owner, pod template: metadata and spec) of every workload."""
    templates = []
    for doc in docs:
        owner = f"{doc['kind']}/{doc['metadata']['name']}"
        spec = doc.get("spec", {})
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}:
            templates.append((owner, spec["template"]))
        elif doc["kind"] == "CronJob":
            templates.append((owner, spec["jobTemplate"]["spec"]["template"]))
        elif doc["kind"] == "Pod":
            templates.append((owner, doc))
    return templates


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    return [(owner, template["spec"]) for owner, template in pod_templates(docs)]


def containers(docs: list[dict]) -> list[tuple[str, dict]]:
    return [
        (f"{owner}/{container['name']}", container)
        for owner, spec in pod_specs(docs)
        for container in spec.get("initContainers", []) + spec["containers"]
    ]


def find(docs: list[dict], kind: str, name: str) -> dict:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


@pytest.mark.parametrize("target", [*OVERLAYS, "cluster"])
def test_each_overlay_renders_and_validates(target, tmp_path):
    directory = K8S / ("cluster" if target == "cluster" else f"overlays/{target}")
    docs = documents(kustomize(directory))
    built_in = [doc for doc in docs if doc["kind"] not in UNVALIDATED_KINDS]
    manifest = tmp_path / f"{target}.yaml"
    manifest.write_text(yaml.safe_dump_all(built_in))

    result = run(venv_tool("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, manifest)

    assert built_in, "nothing rendered"
    assert result.returncode == 0, result.stdout + result.stderr
    # A kind without a bundled schema is only a warning: make it an error unless listed above.
    assert "WARN" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_rendered_manifests_pass_checkov(tmp_path):
    rendered = tmp_path / "rendered"
    rendered.mkdir()
    for environment in OVERLAYS:
        workdir = tmp_path / environment
        workdir.mkdir()
        (rendered / f"{environment}.yaml").write_text(render_release(environment, workdir))
    (rendered / "cluster.yaml").write_text(kustomize(K8S / "cluster"))

    # One run over every manifest: checkov's start-up dominates its run time.
    result = run(
        checkov(), "--directory", rendered, "--framework", "kubernetes",
        "--skip-download", "--compact", "--output", "json",
    )  # fmt: skip

    assert_checkov_clean(result)


def test_deployed_image_is_pinned_by_digest(tmp_path):
    docs = documents(render_release("production", tmp_path))

    images = {container["image"] for _, container in containers(docs)}

    assert len(images) == 1
    assert images.pop().endswith("@sha256:" + "0" * 64)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_non_root_read_only_and_drops_all_capabilities(
    rendered_overlays, overlay
):
    docs = rendered_overlays[overlay]

    for owner, spec in pod_specs(docs):
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, owner
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault", owner
        assert spec["automountServiceAccountToken"] is False, owner
    for name, container in containers(docs):
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] >= 10000, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        assert "add" not in security["capabilities"], name
        assert security["seccompProfile"]["type"] == "RuntimeDefault", name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_and_limits_and_a_writable_tmp(rendered_overlays, overlay):
    for name, container in containers(rendered_overlays[overlay]):
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys(), name
        assert {"cpu", "memory"} <= resources["limits"].keys(), name
        assert WRITABLE_TMP in {mount["mountPath"] for mount in container["volumeMounts"]}, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_server_probes_liveness_and_readiness_on_the_health_endpoints(rendered_overlays, overlay):
    deployment = find(rendered_overlays[overlay], **SERVER)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]

    assert container["livenessProbe"]["httpGet"]["path"] == "/health/"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready/"
    # Probes address the pod by IP: Django must accept that Host.
    env = {item["name"]: item for item in container["env"]}
    assert "$(POD_IP)" in env["ALLOWED_HOSTS"]["value"]
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_serving_pods_never_migrate_and_the_job_does(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    (server,) = find(docs, **SERVER)["spec"]["template"]["spec"]["containers"]
    (migrate,) = find(docs, **MIGRATE)["spec"]["template"]["spec"]["containers"]

    assert "migrate" not in " ".join(server.get("command", []) + server.get("args", []))
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["image"] == server["image"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_purge_runs_daily_in_the_apps_image_and_environment_one_run_at_a_time(
    rendered_overlays, overlay
):
    docs = rendered_overlays[overlay]
    server_pod = find(docs, **SERVER)["spec"]["template"]["spec"]
    (server,) = server_pod["containers"]
    cron = find(docs, **PURGE)["spec"]
    job = cron["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    (purge,) = pod["containers"]

    assert purge["command"] == ["python", "manage.py", "purge_expired"]
    assert purge["image"] == server["image"]
    assert purge["envFrom"] == server["envFrom"]
    assert pod["serviceAccountName"] == server_pod["serviceAccountName"]
    assert pod["restartPolicy"] == "Never"
    # Daily: fixed minute and hour, every day of every month.
    minute, hour, *every_day = cron["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and every_day == ["*", "*", "*"], cron["schedule"]
    assert cron["timeZone"] == "Etc/UTC"
    assert cron["concurrencyPolicy"] == "Forbid"
    assert 0 < cron["startingDeadlineSeconds"] < 24 * 3600
    # With Forbid, a run that hangs would block every later one: it must end before the next.
    assert 0 < job["activeDeadlineSeconds"] < 24 * 3600
    assert 0 <= job["backoffLimit"] <= 3
    # The last runs (a failed one's logs above all) stay readable.
    assert cron["successfulJobsHistoryLimit"] >= 1
    assert cron["failedJobsHistoryLimit"] >= 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_spread_over_zones_and_survive_disruption(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    spec = find(docs, **SERVER)["spec"]
    hpa = find(docs, "HorizontalPodAutoscaler", "taskapi")["spec"]
    pdb = find(docs, "PodDisruptionBudget", "taskapi")["spec"]

    keys = {c["topologyKey"] for c in spec["template"]["spec"]["topologySpreadConstraints"]}
    assert "topology.kubernetes.io/zone" in keys
    assert "replicas" not in spec, "the HorizontalPodAutoscaler owns the replica count"
    assert hpa["minReplicas"] >= 2
    assert pdb["selector"]["matchLabels"] == spec["selector"]["matchLabels"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_replace_every_base_placeholder(rendered_overlays, overlay):
    text = yaml.safe_dump_all(rendered_overlays[overlay])

    for placeholder in ("-ENV-", "/ENV/", "example.invalid", "10.0.0.0/22", "10.0.192.0/22"):
        assert placeholder not in text, placeholder


def subnet_plan(overlay: str) -> tuple[str, str]:
    tfvars = load_hcl(TERRAFORM / "environment" / "environments" / f"{overlay}.tfvars")
    vpc = ipaddress.ip_network(tfvars["vpc_cidr"])
    subnets = list(vpc.subnets(new_prefix=22))
    # deploy/terraform/environment/main.tf: public = cidrsubnet(vpc, 6, 0), data = (vpc, 6, 48)
    return str(subnets[0]), str(subnets[48])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_match_the_terraform_subnet_plan(rendered_overlays, overlay):
    public, data = subnet_plan(overlay)
    docs = rendered_overlays[overlay]
    server = find(docs, "NetworkPolicy", "taskapi-server")["spec"]
    migrate = find(docs, "NetworkPolicy", "taskapi-migrate")["spec"]
    purge = find(docs, "NetworkPolicy", "taskapi-purge")["spec"]
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]

    assert [rule["from"][0]["ipBlock"]["cidr"] for rule in server["ingress"]] == [public]
    assert server["egress"][0]["to"][0]["ipBlock"]["cidr"] == data
    assert migrate["egress"][0]["to"][0]["ipBlock"]["cidr"] == data
    assert purge["egress"][0]["to"][0]["ipBlock"]["cidr"] == data
    worker = find(docs, "NetworkPolicy", "taskapi-webhooks-worker")["spec"]
    assert worker["egress"][0]["to"][0]["ipBlock"]["cidr"] == data
    assert config["data"]["FORWARDED_ALLOW_IPS"] == public


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_app_egress_is_only_database_cache_and_dns(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    deny = find(docs, "NetworkPolicy", "default-deny-all")["spec"]
    server = find(docs, "NetworkPolicy", "taskapi-server")["spec"]

    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ports = {(p["protocol"], p["port"]) for rule in server["egress"] for p in rule["ports"]}
    assert ports == {("TCP", 5432), ("TCP", 6379), ("UDP", 53), ("TCP", 53)}
    assert all(rule.get("to") for rule in server["egress"]), "an egress rule without `to` is open"
    assert [p["port"] for rule in server["ingress"] for p in rule["ports"]] == [8000]


def egress_allowed(policies: list[dict], labels: dict[str, str]) -> set[tuple[str, str, int]]:
    """(destination, protocol, port) the NetworkPolicies selecting a pod with `labels` allow.
    The destination is an ipBlock's CIDR, or "kube-dns" for the cluster DNS pods."""
    allowed = set()
    for policy in policies:
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if not selector or not selector.items() <= labels.items():
            continue  # default-deny-all selects every pod and allows nothing
        for rule in policy["spec"].get("egress", []):
            for peer in rule["to"]:
                if "ipBlock" in peer:
                    destination = peer["ipBlock"]["cidr"]
                else:
                    destination = peer["podSelector"]["matchLabels"]["k8s-app"]
                allowed |= {(destination, p["protocol"], p["port"]) for p in rule["ports"]}
    return allowed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_may_reach_the_database_and_dns_through_a_network_policy(
    rendered_overlays, overlay
):
    _, data = subnet_plan(overlay)
    docs = rendered_overlays[overlay]
    policies = [doc for doc in docs if doc["kind"] == "NetworkPolicy"]
    templates = pod_templates(docs)

    assert {owner for owner, _ in templates} >= {
        f"{w['kind']}/{w['name']}" for w in (SERVER, MIGRATE, PURGE, WORKER)
    }
    for owner, template in templates:
        allowed = egress_allowed(policies, template["metadata"]["labels"])
        assert (data, "TCP", 5432) in allowed, owner
        assert {("kube-dns", "UDP", 53), ("kube-dns", "TCP", 53)} <= allowed, owner


# The worker's liveness command: exit 0 while its heartbeat file is younger than 60 s.
ALIVE = ["python", "-m", "taskapi.webhooks.alive"]


def worker_pod(docs: list[dict]) -> tuple[dict, dict]:
    """The webhooks worker's pod spec and its one container."""
    pod = find(docs, **WORKER)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return pod, container


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_webhooks_worker_runs_in_the_apps_image_and_environment(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    (server,) = find(docs, **SERVER)["spec"]["template"]["spec"]["containers"]
    deployment = find(docs, **WORKER)["spec"]
    _, worker = worker_pod(docs)

    assert worker["command"] == ["python", "manage.py", "webhooks_worker"]
    assert worker["image"] == server["image"]
    assert worker["envFrom"] == server["envFrom"]
    assert "ports" not in worker, "the worker serves nothing"
    # Two, so a drained node or a restart never stops deliveries.
    assert deployment["replicas"] == 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_webhooks_worker_is_never_a_loopback_receiver_and_stops_after_a_whole_attempt(
    rendered_overlays, overlay
):
    docs = rendered_overlays[overlay]
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
    pod, _ = worker_pod(docs)

    assert config["data"]["WEBHOOKS_ALLOW_LOOPBACK"] == "false"
    attempt = int(config["data"]["WEBHOOKS_TIMEOUT"])
    # SIGTERM lets the attempt in progress finish, and record its outcome, before SIGKILL.
    assert pod["terminationGracePeriodSeconds"] >= max(30, 2 * attempt)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_webhooks_worker_is_probed_by_its_heartbeat_and_has_no_readiness_probe(
    rendered_overlays, overlay
):
    _, worker = worker_pod(rendered_overlays[overlay])
    startup, liveness = worker["startupProbe"], worker["livenessProbe"]
    env = {item["name"]: item["value"] for item in worker["env"]}
    mounts = {mount["mountPath"] for mount in worker["volumeMounts"]}

    assert startup["exec"]["command"] == ALIVE
    assert liveness["exec"]["command"] == ALIVE
    assert "readinessProbe" not in worker, "nothing to gate: it serves no traffic"
    # The heartbeat lands on the writable emptyDir (the root filesystem is read-only).
    heartbeat = PurePosixPath(env["WEBHOOKS_HEARTBEAT_FILE"])
    assert str(heartbeat.parent) in mounts
    # Django's start and a first database connection fit in the startup budget; a stuck worker
    # is restarted within minutes, not hours, and not for one slow probe.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60
    assert 2 <= liveness["failureThreshold"] <= 5
    assert liveness["periodSeconds"] * liveness["failureThreshold"] <= 180
    assert liveness["timeoutSeconds"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_webhooks_worker_holds_no_aws_role_and_no_kubernetes_token(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    pod, _ = worker_pod(docs)
    server = find(docs, **SERVER)["spec"]["template"]["spec"]
    account = find(docs, "ServiceAccount", pod["serviceAccountName"])

    # The pod that connects to URLs chosen by users must not be able to use the app's IAM role.
    assert pod["serviceAccountName"] != server["serviceAccountName"]
    assert "eks.amazonaws.com/role-arn" not in account["metadata"].get("annotations", {})
    assert account["automountServiceAccountToken"] is False
    assert pod["automountServiceAccountToken"] is False


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_webhooks_worker_pods_are_selected_only_by_their_own_objects(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    pods = {owner: template["metadata"]["labels"] for owner, template in pod_templates(docs)}
    worker = f"{WORKER['kind']}/{WORKER['name']}"
    server = f"{SERVER['kind']}/{SERVER['name']}"
    selectors = {
        "Service/taskapi": find(docs, "Service", "taskapi")["spec"]["selector"],
        **{
            f"{doc['kind']}/{doc['metadata']['name']}": doc["spec"]["selector"]["matchLabels"]
            for doc in docs
            if doc["kind"] in {"PodDisruptionBudget", "Deployment"}
        },
        **{
            f"NetworkPolicy/{doc['metadata']['name']}": doc["spec"]["podSelector"].get(
                "matchLabels", {}
            )
            for doc in docs
            if doc["kind"] == "NetworkPolicy"
        },
    }

    def selected(name: str) -> set[str]:
        return {owner for owner, labels in pods.items() if selects(selectors[name], labels)}

    assert selected(f"PodDisruptionBudget/{WORKER['name']}") == {worker}
    assert selected(f"NetworkPolicy/{WORKER['name']}") == {worker}
    assert selected(worker) == {worker}
    for name in ("Service/taskapi", "PodDisruptionBudget/taskapi", "NetworkPolicy/taskapi-server"):
        assert selected(name) == {server}, name
    # The HorizontalPodAutoscaler scales the server alone: the worker's count is fixed.
    hpa = find(docs, "HorizontalPodAutoscaler", "taskapi")["spec"]["scaleTargetRef"]
    assert (hpa["kind"], hpa["name"]) == (SERVER["kind"], SERVER["name"])
    pdb = find(docs, "PodDisruptionBudget", WORKER["name"])["spec"]
    assert pdb.get("maxUnavailable") == 1 or pdb.get("minAvailable") == 1


def reachable(policies: list[dict], labels: dict[str, str], address: str, port: int) -> bool:
    """Whether a pod with `labels` may open a TCP connection to `address`:`port` through an
    ipBlock of the NetworkPolicies that select it (excepted ranges taken out)."""
    ip = ipaddress.ip_address(address)
    for policy in policies:
        if not selects(policy["spec"]["podSelector"].get("matchLabels", {}), labels):
            continue
        for rule in policy["spec"].get("egress", []):
            if not any(p["protocol"] == "TCP" and p["port"] == port for p in rule["ports"]):
                continue
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                if block is None or ip not in ipaddress.ip_network(block["cidr"]):
                    continue
                excepted = [ipaddress.ip_network(cidr) for cidr in block.get("except", [])]
                if not any(ip in network for network in excepted):
                    return True
    return False


# Addresses a receiver URL must never reach, even past the app's own SSRF checks.
FORBIDDEN_RECEIVERS = [
    "10.30.192.10",  # the VPC (the database subnet of production)
    "172.20.0.10",  # EKS's service range
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "169.254.170.2",  # ECS/EKS pod credentials
    "100.64.0.1",  # carrier-grade NAT, some clusters' pod range
    "127.0.0.1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fe80::1",
    "::1",
    "::ffff:10.0.0.1",  # an IPv4-mapped private address
]
PUBLIC_RECEIVERS = ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_webhooks_worker_takes_no_traffic_and_sends_https_to_public_addresses_only(
    rendered_overlays, overlay
):
    _, data = subnet_plan(overlay)
    docs = rendered_overlays[overlay]
    policies = [doc for doc in docs if doc["kind"] == "NetworkPolicy"]
    own = find(docs, "NetworkPolicy", WORKER["name"])["spec"]
    labels = find(docs, **WORKER)["spec"]["template"]["metadata"]["labels"]

    # No ingress rule at all: with Ingress in policyTypes, nothing may connect to the pods.
    assert {"Ingress", "Egress"} <= set(own["policyTypes"])
    assert not own.get("ingress")
    admitting = [
        policy["metadata"]["name"]
        for policy in policies
        if selects(policy["spec"]["podSelector"].get("matchLabels", {}), labels)
        and policy["spec"].get("ingress")
    ]
    assert not admitting, admitting
    assert all(rule.get("to") for rule in own["egress"]), "an egress rule without `to` is open"
    ports = {(p["protocol"], p["port"]) for rule in own["egress"] for p in rule["ports"]}
    assert ports == {("TCP", 5432), ("UDP", 53), ("TCP", 53), ("TCP", 443)}
    # The database, but no HTTPS (nor anything else) into the VPC.
    assert (data, "TCP", 5432) in egress_allowed(policies, labels)
    for address in FORBIDDEN_RECEIVERS:
        assert not reachable(policies, labels, address, 443), address
    for address in PUBLIC_RECEIVERS:
        assert reachable(policies, labels, address, 443), address
        assert not reachable(policies, labels, address, 80), address


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_from_aws_secrets_manager_through_irsa(rendered_overlays, overlay):
    docs = rendered_overlays[overlay]
    account = find(docs, "ServiceAccount", "taskapi")
    store = find(docs, "SecretStore", "aws-secrets-manager")["spec"]["provider"]["aws"]
    external = find(docs, "ExternalSecret", "taskapi-secrets")["spec"]

    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role.endswith(f":role/cloud-task-api-{overlay}-app")
    assert store["auth"]["jwt"]["serviceAccountRef"]["name"] == "taskapi"
    assert external["dataFrom"] == [{"extract": {"key": f"cloud-task-api/{overlay}/app"}}]
    assert not [d for d in docs if d["kind"] == "Secret"], "no Secret is committed"


# kind -> (API group, resource) for the deploy workflow's Role.
RESOURCES = {
    "ConfigMap": ("", "configmaps"),
    "Service": ("", "services"),
    "ServiceAccount": ("", "serviceaccounts"),
    "Deployment": ("apps", "deployments"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
    "HorizontalPodAutoscaler": ("autoscaling", "horizontalpodautoscalers"),
    "PodDisruptionBudget": ("policy", "poddisruptionbudgets"),
    "Ingress": ("networking.k8s.io", "ingresses"),
    "NetworkPolicy": ("networking.k8s.io", "networkpolicies"),
    "SecretStore": ("external-secrets.io", "secretstores"),
    "ExternalSecret": ("external-secrets.io", "externalsecrets"),
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deploy_role_may_apply_every_rendered_kind_and_never_read_secrets(
    rendered_overlays, overlay
):
    cluster = documents(kustomize(K8S / "cluster"))
    role = find(cluster, "Role", "cloud-task-api-deployer")
    granted = {
        (group, resource): set(rule["verbs"])
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }

    for doc in rendered_overlays[overlay]:
        key = RESOURCES[doc["kind"]]
        assert {"get", "create", "patch"} <= granted.get(key, set()), doc["kind"]
    assert not any(resource == "secrets" for _, resource in granted)
    assert {"clusterroles", "roles", "rolebindings"}.isdisjoint(r for _, r in granted)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_are_not_served_through_the_load_balancer(rendered_overlays, overlay):
    ingress = find(rendered_overlays[overlay], "Ingress", "taskapi")
    (rule,) = ingress["spec"]["rules"]
    first = rule["http"]["paths"][0]

    assert (first["path"], first["pathType"]) == ("/metrics", "Exact")
    action = first["backend"]["service"]["name"]
    annotation = ingress["metadata"]["annotations"][f"alb.ingress.kubernetes.io/actions.{action}"]
    response = json.loads(annotation)
    assert response["type"] == "fixed-response"
    assert response["fixedResponseConfig"]["statusCode"] == "404"
