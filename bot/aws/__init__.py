"""Read-only boto3 collectors, one module per service. Raw boto dicts never leave here."""
