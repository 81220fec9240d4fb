"""bot.arns: function references as people paste them, and generic ARN helpers."""

from __future__ import annotations

import pytest

from bot.arns import (
    Arn,
    BadArn,
    BadFunctionRef,
    FunctionRef,
    account_of,
    find_function_arns,
    log_group_name,
    parse_arn,
    parse_function_ref,
)

CASES = [
    (
        "arn:aws:lambda:us-east-1:111111111111:function:orders",
        FunctionRef(partition="aws", region="us-east-1", account="111111111111", name="orders"),
    ),
    (
        "arn:aws:lambda:eu-west-1:111111111111:function:orders:live",
        FunctionRef(region="eu-west-1", account="111111111111", name="orders", qualifier="live"),
    ),
    (
        "arn:aws:lambda:us-east-1:111111111111:function:orders:$LATEST",
        FunctionRef(region="us-east-1", account="111111111111", name="orders", qualifier="$LATEST"),
    ),
    (
        "arn:aws:lambda:us-east-1:111111111111:function:orders:7",
        FunctionRef(region="us-east-1", account="111111111111", name="orders", qualifier="7"),
    ),
    (
        "arn:aws-cn:lambda:cn-north-1:111111111111:function:orders",
        FunctionRef(partition="aws-cn", region="cn-north-1", account="111111111111", name="orders"),
    ),
    (
        "arn:aws-us-gov:lambda:us-gov-west-1:111111111111:function:my_fn-2",
        FunctionRef(
            partition="aws-us-gov", region="us-gov-west-1", account="111111111111", name="my_fn-2"
        ),
    ),
    ("orders", FunctionRef(name="orders")),
    ("  orders:live \n", FunctionRef(name="orders", qualifier="live")),
    ("orders:$LATEST", FunctionRef(name="orders", qualifier="$LATEST")),
    (
        "111111111111:function:orders",
        FunctionRef(account="111111111111", name="orders"),
    ),
    (
        "111111111111:function:orders:3",
        FunctionRef(account="111111111111", name="orders", qualifier="3"),
    ),
    (
        "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/orders?tab=code",
        FunctionRef(region="us-east-1", name="orders"),
    ),
    (
        "https://console.aws.amazon.com/lambda/home?region=eu-west-1#/functions/orders:live?tab=configure",
        FunctionRef(region="eu-west-1", name="orders", qualifier="live"),
    ),
    (
        "https://eu-central-1.console.aws.amazon.com/lambda/home#/functions/orders/aliases/prod?tab=code",
        FunctionRef(region="eu-central-1", name="orders", qualifier="prod"),
    ),
    (
        "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/orders/versions/12?tab=code",
        FunctionRef(region="us-east-1", name="orders", qualifier="12"),
    ),
    (
        "https://cn-north-1.console.amazonaws.cn/lambda/home?region=cn-north-1#/functions/orders",
        FunctionRef(partition="aws-cn", region="cn-north-1", name="orders"),
    ),
    (
        "<arn:aws:lambda:us-east-1:111111111111:function:orders>",
        FunctionRef(region="us-east-1", account="111111111111", name="orders"),
    ),
    (
        "`orders`",
        FunctionRef(name="orders"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_function_ref(text: str, expected: FunctionRef) -> None:
    assert parse_function_ref(text) == expected


BAD = [
    "",
    "   ",
    "arn:aws:s3:::bucket",
    "arn:aws:lambda:us-east-1:111111111111:layer:x:1",
    "arn:aws:lambda:us-east-1:1111:function:orders",
    "arn:aws:lambda:us-east-1:111111111111:function:",
    "orders/with/slash",
    "has space",
    "a" * 65,
    "orders:bad.qualifier",
    "https://example.com/lambda/home#/functions/orders",
    "https://us-east-1.console.aws.amazon.com/s3/buckets/orders",
    "https://us-east-1.console.aws.amazon.com/lambda/home#/functions",
]


@pytest.mark.parametrize("text", BAD)
def test_bad_function_ref(text: str) -> None:
    with pytest.raises(BadFunctionRef) as info:
        parse_function_ref(text)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "function" in message
    assert "\n" not in message


def test_bad_ref_message_names_input() -> None:
    with pytest.raises(
        BadFunctionRef, match=r"not a Lambda function ARN or name: 'arn:aws:s3:::b'"
    ):
        parse_function_ref("arn:aws:s3:::b")


def test_function_url_says_it_does_not_name_the_function() -> None:
    with pytest.raises(BadFunctionRef, match=r"is a function URL, which does not name"):
        parse_function_ref("https://4x7yzqk3mehbjtk2.lambda-url.eu-west-1.on.aws/orders?id=1")


def test_resolve_and_arns() -> None:
    ref = parse_function_ref("orders:live").resolve(
        partition="aws-cn", region="cn-north-1", account="111111111111"
    )
    assert ref.unqualified_arn == "arn:aws-cn:lambda:cn-north-1:111111111111:function:orders"
    assert ref.arn == "arn:aws-cn:lambda:cn-north-1:111111111111:function:orders:live"
    full = parse_function_ref("arn:aws:lambda:us-east-1:222222222222:function:x")
    assert full.resolve(partition="aws", region="eu-west-1", account="1" * 12) == full
    with pytest.raises(BadFunctionRef):
        _ = parse_function_ref("orders").unqualified_arn


def test_parse_arn() -> None:
    arn = parse_arn("arn:aws:iam::111111111111:role/service-role/orders-role")
    assert arn == Arn(
        partition="aws",
        service="iam",
        region="",
        account="111111111111",
        resource="role/service-role/orders-role",
    )
    assert arn.resource_type == "role"
    assert arn.resource_id == "service-role/orders-role"
    assert str(arn) == "arn:aws:iam::111111111111:role/service-role/orders-role"
    assert parse_arn("arn:aws:s3:::bucket/key").account == ""
    assert parse_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").account == "aws"
    with pytest.raises(BadArn):
        parse_arn("not-an-arn")


def test_account_of() -> None:
    assert account_of("arn:aws:sqs:us-east-1:111111111111:q") == "111111111111"
    assert account_of("arn:aws:s3:::bucket") is None
    assert account_of("arn:aws:iam::aws:policy/X") is None
    assert account_of("nope") is None


def test_log_group_name() -> None:
    assert log_group_name("orders") == "/aws/lambda/orders"


def test_find_function_arns() -> None:
    text = (
        "help! <arn:aws:lambda:us-east-1:111111111111:function:orders|orders> fails, and "
        "arn:aws:lambda:us-east-1:111111111111:function:orders:live too; also "
        "arn:aws:lambda:us-east-1:111111111111:function:orders again and "
        "arn:aws-cn:lambda:cn-north-1:222222222222:function:x."
    )
    assert find_function_arns(text) == [
        "arn:aws:lambda:us-east-1:111111111111:function:orders",
        "arn:aws:lambda:us-east-1:111111111111:function:orders:live",
        "arn:aws-cn:lambda:cn-north-1:222222222222:function:x",
    ]
    assert find_function_arns("nothing here") == []
