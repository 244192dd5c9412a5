variable "region" {
  type        = string
  description = "AWS region of the container registry."
  default     = "eu-west-1"
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (owner/name) whose workflows may push images, e.g. acme/cloud-task-api."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "ecr_repository_name" {
  type        = string
  description = "Name of the ECR repository for the app image."
  default     = "cloud-task-api"
}

variable "untagged_image_expiry_days" {
  type        = number
  description = "Days after which untagged images (superseded build layers) are deleted."
  default     = 14
}

variable "tagged_images_to_keep" {
  type        = number
  description = "How many tagged images to keep: enough to roll back several releases."
  default     = 50
}

variable "state_bucket_name" {
  type        = string
  description = "Terraform state bucket (output state_bucket of the bootstrap stack); the plan role reads it."
}

variable "state_kms_key_arn" {
  type        = string
  description = "KMS key of the state bucket (output state_kms_key_arn of the bootstrap stack)."
}
