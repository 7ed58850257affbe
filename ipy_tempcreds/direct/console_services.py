"""The AWS console's service pages that ``%aws_console SERVICE`` opens, and the words for them.

Where the list comes from: each path is the console address a service's AWS user guide gives
("open the … console at https://console.aws.amazon.com/PATH/"), gathered by hand in December
2026; the names people type for it are the path itself, the service's name in the AWS CLI and
boto3 (``dynamodb``, ``ssm``, ``stepfunctions``) and a few common short forms. AWS adds services
and sometimes moves a page, and the tests cannot ask the real console (they run on loopback), so
the list can lag: a page that is not listed opens as typed when its path ends with ``/``
(``%aws_console quicksight/``), and the console itself redirects an old path to its new home.
Imports nothing.
"""

from __future__ import annotations

# path -> other names for it (the path is a name too). Paths are relative to the console host and
# get "/home" appended (direct/console.py's console_destination).
PAGES: dict[str, tuple[str, ...]] = {
    "acm": ("certificates",),
    "apigateway": ("apigw", "api-gateway"),
    "athena": (),
    "aos": ("opensearch", "es", "elasticsearch"),
    "backup": (),
    "batch": (),
    "bedrock": (),
    "billing": (),
    "cloudformation": ("cfn",),
    "cloudfront": (),
    "cloudshell": (),
    "cloudtrail": (),
    "cloudwatch": ("cw", "logs"),
    "codepipeline": (),
    "cognito": (),
    "comprehend": (),
    "config": (),
    "cost-management": ("ce", "cost-explorer", "costs"),
    "datasync": (),
    "datazone": (),
    "directconnect": (),
    "dms": (),
    "docdb": ("documentdb",),
    "dynamodbv2": ("dynamodb", "ddb"),
    "ec2": (),
    "ecr": (),
    "ecs": (),
    "efs": (),
    "eks": (),
    "elasticache": (),
    "elasticbeanstalk": ("beanstalk",),
    "emr": ("elasticmapreduce",),
    "events": ("eventbridge",),
    "firehose": (),
    "fsx": (),
    "glue": (),
    "guardduty": (),
    "iam": (),
    "kendra": (),
    "kinesis": (),
    "kms": (),
    "lakeformation": ("lake-formation",),
    "lambda": (),
    "mwaa": ("airflow",),
    "msk": ("kafka",),
    "neptune": (),
    "organizations": (),
    "rds": (),
    "redshiftv2": ("redshift",),
    "rekognition": (),
    "route53": (),
    "s3": (),
    "sagemaker": (),
    "secretsmanager": ("secrets",),
    "securityhub": (),
    "servicequotas": ("quotas",),
    "ses": (),
    "singlesignon": ("sso", "identity-center", "identitycenter"),
    "sns": (),
    "sqs": (),
    "states": ("stepfunctions", "sfn", "step-functions"),
    "support": (),
    "systems-manager": ("ssm", "parameter-store"),
    "textract": (),
    "timestream": (),
    "transfer": (),
    "trustedadvisor": (),
    "vpc": (),
    "wafv2": ("waf",),
}

# Every name a user may type -> the console path it opens.
NAMES: dict[str, str] = {name: path for path, others in PAGES.items() for name in (path, *others)}
