terraform {
  # 1.10+: the S3 backend locks with a lock object (use_lockfile), no DynamoDB table needed.
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.98"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "cloud-task-api"
      ManagedBy = "terraform"
      Stack     = "bootstrap"
    }
  }
}
