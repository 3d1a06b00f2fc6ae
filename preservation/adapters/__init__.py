"""The outside world behind small interfaces; the only package that imports boto3 or botocore."""
