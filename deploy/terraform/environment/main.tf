data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "cloud-task-api-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = var.availability_zones

  # Subnet plan of the /16: public x.x.0.0/22 (/24 each), nodes x.x.16.0/20 ... (/20 each, pod
  # IPs come from here too), data x.x.192.0/22 (/24 each). The aggregates feed the NetworkPolicies.
  public_subnets           = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, i)]
  private_subnets          = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 4, i + 1)]
  data_subnets             = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, 192 + i)]
  public_subnets_aggregate = cidrsubnet(var.vpc_cidr, 6, 0)
  data_subnets_aggregate   = cidrsubnet(var.vpc_cidr, 6, 48)

  app_secret_name = "cloud-task-api/${var.environment}/app"
}
