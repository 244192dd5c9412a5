"""Kubernetes manifests: each overlay renders, matches the Kubernetes schemas, passes checkov's
checks, and keeps the properties a reviewer would otherwise check by hand."""

import ipaddress
import json

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
# The pods' only writable path (an emptyDir): the root filesystem is read-only.
WRITABLE_TMP = "/tmp"  # noqa: S108


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    specs = []
    for doc in docs:
        spec = doc.get("spec", {})
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}:
            specs.append((f"{doc['kind']}/{doc['metadata']['name']}", spec["template"]["spec"]))
        elif doc["kind"] == "CronJob":
            template = spec["jobTemplate"]["spec"]["template"]["spec"]
            specs.append((f"CronJob/{doc['metadata']['name']}", template))
        elif doc["kind"] == "Pod":
            specs.append((f"Pod/{doc['metadata']['name']}", spec))
    return specs


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
    (migrate,) = find(docs, "Job", "taskapi-migrate")["spec"]["template"]["spec"]["containers"]

    assert "migrate" not in " ".join(server.get("command", []) + server.get("args", []))
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["image"] == server["image"]


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
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]

    assert [rule["from"][0]["ipBlock"]["cidr"] for rule in server["ingress"]] == [public]
    assert server["egress"][0]["to"][0]["ipBlock"]["cidr"] == data
    assert migrate["egress"][0]["to"][0]["ipBlock"]["cidr"] == data
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
