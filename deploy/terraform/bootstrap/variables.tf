variable "region" {
  type        = string
  description = "AWS region that holds the Terraform state bucket."
  default     = "eu-west-1"
}

variable "state_bucket_name" {
  type        = string
  description = "Globally unique name of the S3 bucket for Terraform state, e.g. cloud-task-api-tfstate-<account id>."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "noncurrent_version_retention_days" {
  type        = number
  description = "Days to keep superseded versions of state files (the recovery window for a bad apply)."
  default     = 90
}
