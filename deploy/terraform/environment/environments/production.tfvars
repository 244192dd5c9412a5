environment        = "production"
region             = "eu-west-1"
vpc_cidr           = "10.30.0.0/16"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
single_nat_gateway = false

cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"] # replace: operators' and CI runners' egress ranges
cluster_admin_principal_arns         = []                 # e.g. ["arn:aws:iam::123456789012:role/platform-admin"]

node_group_sizes = { min = 3, desired = 3, max = 9 }

db_instance_class        = "db.m7g.large"
db_multi_az              = true
db_backup_retention_days = 30
cache_node_type          = "cache.m7g.large"

github_repository        = "acme/cloud-task-api"
github_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
