"""lambda-why: explains why an AWS Lambda function is denied."""

__version__ = "0.1.0"
