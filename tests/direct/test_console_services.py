"""The console pages %aws_console knows (direct/console_services.py): a name opens its page, an
unknown one is refused with the closest, a page not listed opens by its path."""

from __future__ import annotations

import re

import pytest

from ipy_tempcreds.base.errors import InvalidInput
from ipy_tempcreds.direct import console_services
from ipy_tempcreds.direct.console import check_service, console_destination


def test_every_listed_page_is_a_plain_path_and_every_name_opens_one_page():
    names = [name for path, others in console_services.PAGES.items() for name in (path, *others)]
    assert len(names) == len(set(names)), "a name may open one page only"
    for path in console_services.PAGES:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", path), path
        assert check_service(path) == path  # a page's path is one of its names: checking is idempotent


@pytest.mark.parametrize("typed, page", [
    ("s3", "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"),
    ("S3", "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"),
    # The AWS CLI's and boto3's names open the page the console has for them.
    ("dynamodb", "https://eu-west-1.console.aws.amazon.com/dynamodbv2/home?region=eu-west-1"),
    ("ssm", "https://eu-west-1.console.aws.amazon.com/systems-manager/home?region=eu-west-1"),
    ("stepfunctions", "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"),
    # A page that is not listed: its path, as typed.
    ("quicksight/", "https://eu-west-1.console.aws.amazon.com/quicksight/home?region=eu-west-1"),
    ("codesuite/codecommit", "https://eu-west-1.console.aws.amazon.com/codesuite/codecommit/home?region=eu-west-1"),
])
def test_a_known_name_or_a_path_opens_its_page(typed, page):
    assert console_destination("aws", check_service(typed), "eu-west-1") == page


@pytest.mark.parametrize("typed, says", [
    ("s4", "unknown console service 's4': did you mean s3?"),
    ("lamda", "unknown console service 'lamda': did you mean lambda?"),
    ("sagemkr", "did you mean sagemaker?"),
    ("cloudwach", "did you mean cloudwatch?"),
    ("qwertyuiop", "opens as typed when its path ends with /: qwertyuiop/."),
    ("../etc/", "is not a console path"),
    ("a//b", "is not a console path"),
])
def test_an_unknown_service_is_refused_with_the_closest(typed, says):
    with pytest.raises(InvalidInput, match=re.escape(says)):
        check_service(typed)
