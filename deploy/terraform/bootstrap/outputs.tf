output "state_bucket" {
  description = "Bucket name for the `bucket` setting of every *.s3.tfbackend file."
  value       = aws_s3_bucket.state.bucket
}

output "state_kms_key_arn" {
  description = "KMS key that encrypts the state bucket (`kms_key_id` in the backend settings)."
  value       = aws_kms_key.state.arn
}
