output "ecr_repository_url" {
  description = "Registry/repository the workflow pushes to (the repository name is ECR_REPOSITORY in deliver.yml)."
  value       = aws_ecr_repository.app.repository_url
}

output "ecr_repository_arn" {
  description = "ARN of the image repository."
  value       = aws_ecr_repository.app.arn
}

output "github_oidc_provider_arn" {
  description = "GitHub OIDC provider; the environment stacks trust it for their deploy roles."
  value       = aws_iam_openid_connect_provider.github.arn
}

output "ci_push_role_arn" {
  description = "Role for the build job (GitHub repository variable AWS_PUSH_ROLE_ARN)."
  value       = aws_iam_role.ci_push.arn
}

output "ci_plan_role_arn" {
  description = "Role for ci.yml's terraform plan job (variable AWS_PLAN_ROLE_ARN of the GitHub environment terraform-plan)."
  value       = aws_iam_role.ci_plan.arn
}
