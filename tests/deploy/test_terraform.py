"""Terraform: every file parses, checkov's checks pass, and the properties the issue asks for hold.

No registry ships Terraform or its providers here, so `terraform fmt`, `init`, `validate` and
`plan` run in the pipeline (.github/workflows/ci.yml), not in these tests.
"""

import re

import pytest

from tests.deploy.conftest import (
    TERRAFORM,
    assert_checkov_clean,
    checkov,
    load_hcl,
    run,
    terraform_blocks,
    terraform_files,
)

ROOTS = ("bootstrap", "shared", "environment")


def terraform_settings(root: str) -> dict:
    (settings,) = [
        block
        for path in sorted((TERRAFORM / root).glob("*.tf"))
        for block in load_hcl(path).get("terraform", [])
    ]
    return settings


@pytest.mark.parametrize("path", terraform_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_terraform_parses(path):
    assert load_hcl(path), f"{path} parsed to nothing"


def test_tfvars_and_backend_settings_parse():
    files = sorted(TERRAFORM.rglob("*.tfvars")) + sorted(TERRAFORM.rglob("*.tfbackend"))

    assert len(files) >= 5
    for path in files:
        assert load_hcl(path), path


def test_terraform_passes_checkov():
    # One run over every root module: checkov's start-up dominates its run time.
    result = run(
        checkov(), "--directory", TERRAFORM, "--framework", "terraform",
        "--skip-download", "--compact", "--output", "json",
    )  # fmt: skip

    assert_checkov_clean(result)


@pytest.mark.parametrize("root", ROOTS)
def test_terraform_and_providers_are_pinned(root):
    settings = terraform_settings(root)

    assert settings["required_version"]
    providers = settings["required_providers"][0]
    assert providers
    for name, provider in providers.items():
        assert re.fullmatch(r"~> \d+\.\d+(\.\d+)?", provider["version"]), name


@pytest.mark.parametrize("root", ["shared", "environment"])
def test_state_is_remote_in_s3_with_locking(root):
    settings = terraform_settings(root)

    assert [list(backend) for backend in settings["backend"]] == [["s3"]]
    for path in (TERRAFORM / "backend").glob("*.s3.tfbackend"):
        backend = load_hcl(path)
        assert backend["use_lockfile"] is True, path
        assert backend["encrypt"] is True, path


@pytest.mark.parametrize("root", ROOTS)
def test_every_variable_is_typed_and_described(root):
    variables = terraform_blocks(root, "variable")

    assert variables
    for name, variable in variables.items():
        assert variable.get("type"), f"variable {name} has no type"
        assert variable.get("description"), f"variable {name} has no description"


@pytest.mark.parametrize("root", ROOTS)
def test_every_output_is_described(root):
    outputs = terraform_blocks(root, "output")

    assert outputs
    assert all(output.get("description") for output in outputs.values()), outputs.keys()


def test_database_is_encrypted_private_backed_up_and_protected():
    db = terraform_blocks("environment", "resource")["aws_db_instance.main"]
    variables = terraform_blocks("environment", "variable")

    assert db["storage_encrypted"] is True
    assert db["kms_key_id"]
    assert db["publicly_accessible"] is False
    assert db["skip_final_snapshot"] is False
    assert db["multi_az"] == "${var.db_multi_az}"
    assert db["deletion_protection"] == "${var.db_deletion_protection}"
    assert variables["db_deletion_protection"]["default"] is True
    assert db["backup_retention_period"] == "${var.db_backup_retention_days}"
    (retention_rule,) = variables["db_backup_retention_days"]["validation"]
    assert "var.db_backup_retention_days >= 7" in retention_rule["condition"]
    assert db["db_subnet_group_name"] == "${aws_db_subnet_group.main.name}"


def test_data_subnets_have_no_route_out_of_the_vpc():
    resources = terraform_blocks("environment", "resource")

    routes = [r for name, r in resources.items() if name.startswith("aws_route.")]
    assert all("route_table.data" not in r["route_table_id"] for r in routes)
    subnet_group = resources["aws_db_subnet_group.main"]
    assert subnet_group["subnet_ids"] == "${aws_subnet.data[*].id}"


def test_cache_encrypts_in_transit_and_at_rest_and_requires_a_token():
    cache = terraform_blocks("environment", "resource")["aws_elasticache_replication_group.main"]

    assert cache["transit_encryption_enabled"] is True
    assert cache["at_rest_encryption_enabled"] is True
    assert cache["auth_token"] == "${random_password.cache_auth_token.result}"
    assert cache["automatic_failover_enabled"] is True


def test_registry_scans_on_push_with_immutable_tags():
    repository = terraform_blocks("shared", "resource")["aws_ecr_repository.app"]

    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"][0]["scan_on_push"] is True


def test_eks_has_managed_nodes_irsa_and_encrypted_secrets():
    resources = terraform_blocks("environment", "resource")
    cluster = resources["aws_eks_cluster.main"]
    template = resources["aws_launch_template.eks_node"]

    assert "aws_eks_node_group.main" in resources
    assert "aws_iam_openid_connect_provider.eks" in resources
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]
    assert cluster["vpc_config"][0]["subnet_ids"] == "${aws_subnet.private[*].id}"
    assert template["metadata_options"][0]["http_tokens"] == "required"
    vpc_cni = resources["aws_eks_addon.vpc_cni"]
    assert "enableNetworkPolicy" in vpc_cni["configuration_values"], "NetworkPolicy enforcement"


def test_app_role_reads_only_its_own_secret():
    documents = terraform_blocks("environment", "data")
    policy = documents["aws_iam_policy_document.app"]["statement"]
    trust = documents["aws_iam_policy_document.app_trust"]["statement"]

    actions = {action for statement in policy for action in statement["actions"]}
    assert actions == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "kms:Decrypt",
    }
    resources = {resource for statement in policy for resource in statement["resources"]}
    assert resources == {"${aws_secretsmanager_secret.app.arn}", "${aws_kms_key.main.arn}"}
    conditions = [condition for statement in trust for condition in statement["condition"]]
    subjects = [c["values"] for c in conditions if c["variable"].endswith(":sub")]
    assert subjects == [["system:serviceaccount:${var.app_namespace}:${var.app_service_account}"]]


def test_ci_roles_trust_only_this_repository_and_never_a_pull_request():
    shared = terraform_blocks("shared", "data")
    environment = terraform_blocks("environment", "data")
    trusts = [
        shared["aws_iam_policy_document.ci_push_trust"],
        shared["aws_iam_policy_document.ci_plan_trust"],
        environment["aws_iam_policy_document.deployer_trust"],
    ]

    for trust in trusts:
        conditions = [c for s in trust["statement"] for c in s["condition"]]
        subjects = [c for c in conditions if c["variable"].endswith(":sub")]
        assert [c["test"] for c in subjects] == ["StringEquals"], "no wildcards in the subject"
        (values,) = [c["values"] for c in subjects]
        assert all(v.startswith("repo:${var.github_repository}:") for v in values)
        assert not any("pull_request" in v for v in values)


def test_the_manifests_are_validated_against_the_cluster_version():
    from tests.deploy.test_kubernetes import KUBERNETES_VERSION

    variables = terraform_blocks("environment", "variable")

    assert variables["kubernetes_version"]["default"] == KUBERNETES_VERSION
