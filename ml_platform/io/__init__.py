"""Storage: Parquet/JSON IO managers (local disk and S3) and the export of deployed models."""
