region            = "eu-west-1"
github_repository = "acme/cloud-task-api"
state_bucket_name = "cloud-task-api-tfstate-123456789012"
state_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
