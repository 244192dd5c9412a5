output "cluster_name" {
  description = "EKS cluster name (`aws eks update-kubeconfig --name ...`; GitHub environment variable EKS_CLUSTER)."
  value       = aws_eks_cluster.main.name
}

output "cluster_endpoint" {
  description = "EKS API endpoint."
  value       = aws_eks_cluster.main.endpoint
}

output "vpc_id" {
  description = "VPC id (the AWS Load Balancer Controller's vpcId value)."
  value       = aws_vpc.main.id
}

output "public_subnets_aggregate_cidr" {
  description = "Range of the public subnets (ALB nodes): FORWARDED_ALLOW_IPS, TRUSTED_PROXIES and the app NetworkPolicy's ingress ipBlock."
  value       = local.public_subnets_aggregate
}

output "data_subnets_aggregate_cidr" {
  description = "Range of the data subnets (RDS, ElastiCache): the NetworkPolicies' egress ipBlock."
  value       = local.data_subnets_aggregate
}

output "app_irsa_role_arn" {
  description = "IAM role for the app's service account (annotation eks.amazonaws.com/role-arn)."
  value       = aws_iam_role.app.arn
}

output "app_secret_name" {
  description = "Secrets Manager secret the ExternalSecret extracts."
  value       = aws_secretsmanager_secret.app.name
}

output "deployer_role_arn" {
  description = "Role for the deploy jobs (GitHub environment variable AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.deployer.arn
}

output "db_endpoint" {
  description = "PostgreSQL endpoint (host:port)."
  value       = aws_db_instance.main.endpoint
}

output "cache_primary_endpoint" {
  description = "Redis primary endpoint."
  value       = aws_elasticache_replication_group.main.primary_endpoint_address
}
