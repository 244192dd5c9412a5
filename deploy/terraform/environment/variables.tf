variable "environment" {
  type        = string
  description = "Environment name; part of every resource name and of the app's secret name."

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the environment."
  default     = "eu-west-1"
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones (names) to spread subnets, nodes, the database and the cache over. Listed, not looked up, so a zone AWS adds later never moves a subnet."

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3
    error_message = "Use 2 or 3 availability zones (the subnet plan has room for 3)."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "VPC range, a /16. Public subnets take the first /22, data subnets x.x.192.0/22; the NetworkPolicies in deploy/k8s/overlays use those two ranges."

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && endswith(var.vpc_cidr, "/16")
    error_message = "vpc_cidr must be a /16 CIDR block."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all zones (cheaper, one zone's outage cuts egress) instead of one per zone."
  default     = false
}

variable "kubernetes_version" {
  type        = string
  description = "EKS control plane version. The manifests are schema-checked against the same version."
  default     = "1.33"
}

variable "cluster_endpoint_public_access_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the public EKS API endpoint (operators, CI runners). Never 0.0.0.0/0."

  validation {
    condition     = length(var.cluster_endpoint_public_access_cidrs) > 0 && !contains(var.cluster_endpoint_public_access_cidrs, "0.0.0.0/0")
    error_message = "List at least one network, and not 0.0.0.0/0."
  }
}

variable "cluster_admin_principal_arns" {
  type        = list(string)
  description = "IAM roles/users given cluster-admin through EKS access entries (the operators)."
  default     = []
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types for the managed node group."
  default     = ["m7g.large"]
}

variable "node_ami_type" {
  type        = string
  description = "EKS-optimized AMI family matching node_instance_types' architecture."
  default     = "AL2023_ARM_64_STANDARD"
}

variable "node_group_sizes" {
  type = object({
    min     = number
    desired = number
    max     = number
  })
  description = "Managed node group scaling bounds."
  default     = { min = 2, desired = 3, max = 6 }
}

variable "db_instance_class" {
  type        = string
  description = "RDS instance class."
  default     = "db.t4g.medium"
}

variable "db_engine_version" {
  type        = string
  description = "PostgreSQL major version; minor versions are upgraded automatically in the maintenance window."
  default     = "16"
}

variable "db_allocated_storage_gb" {
  type        = number
  description = "Initial storage in GiB."
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  type        = number
  description = "Upper bound for storage autoscaling in GiB."
  default     = 100
}

variable "db_multi_az" {
  type        = bool
  description = "Run a synchronous standby in another zone (production: true)."
  default     = true
}

variable "db_backup_retention_days" {
  type        = number
  description = "Days of automated backups and point-in-time recovery."
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "Keep between 7 and 35 days of backups."
  }
}

variable "db_deletion_protection" {
  type        = bool
  description = "Refuse to delete the database (turn off deliberately, in its own apply, to tear down)."
  default     = true
}

variable "db_name" {
  type        = string
  description = "Database name the app uses."
  default     = "taskapi"
}

variable "cache_node_type" {
  type        = string
  description = "ElastiCache node type."
  default     = "cache.t4g.small"
}

variable "cache_replicas" {
  type        = number
  description = "Read replicas besides the primary (at least 1: automatic failover needs one)."
  default     = 1

  validation {
    condition     = var.cache_replicas >= 1
    error_message = "At least one replica: automatic failover and Multi-AZ need it."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of control-plane, flow and database logs in CloudWatch."
  default     = 365
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (owner/name) whose `environment` of the same name may deploy here."
}

variable "github_oidc_provider_arn" {
  type        = string
  description = "ARN of GitHub's OIDC provider (output github_oidc_provider_arn of the shared stack)."
}

variable "app_namespace" {
  type        = string
  description = "Kubernetes namespace of the app (deploy/k8s/base/kustomization.yaml)."
  default     = "cloud-task-api"
}

variable "app_service_account" {
  type        = string
  description = "Kubernetes service account of the app; its IRSA role reads the app secret."
  default     = "taskapi"
}
