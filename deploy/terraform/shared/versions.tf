terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.98"
    }
  }

  # Partial configuration: `terraform init -backend-config=../backend/shared.s3.tfbackend`.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "cloud-task-api"
      ManagedBy = "terraform"
      Stack     = "shared"
    }
  }
}
