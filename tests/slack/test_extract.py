"""Finding functions and access errors in messages other tools post."""

from __future__ import annotations

from bot.slack.extract import access_error, function_refs, texts_of, unwrap_links

from .test_flow import ALARM_MESSAGE

FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:orders"


def test_alarm_attachment_gives_the_function() -> None:
    assert function_refs(texts_of(ALARM_MESSAGE)) == [FUNCTION]


def test_alarm_in_blocks_with_json_dimensions() -> None:
    message = {
        "text": "",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*ALARM*: `orders-throttles` in us-west-2\n"
                    "AlarmArn: arn:aws:cloudwatch:us-west-2:222222222222:alarm:orders-throttles\n"
                    '"Dimensions": [{"name": "FunctionName", "value": "orders-worker"}]',
                },
            }
        ],
    }
    assert function_refs(texts_of(message)) == [
        "arn:aws:lambda:us-west-2:222222222222:function:orders-worker"
    ]


def test_arns_console_links_and_dedupe() -> None:
    text = (
        f"broken: <{FUNCTION}:live|orders live> and again {FUNCTION}:live, see "
        "<https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/payments?tab=code|console>"
    )
    refs = function_refs([text])
    assert refs[0] == f"{FUNCTION}:live"
    assert len(refs) == 2
    assert refs[1].endswith("#/functions/payments?tab=code")


def test_log_group_of_an_alarm() -> None:
    text = (
        "Alarm arn:aws:cloudwatch:eu-west-1:333333333333:alarm:errs on log group "
        "/aws/lambda/billing metric filter"
    )
    assert function_refs([text]) == ["arn:aws:lambda:eu-west-1:333333333333:function:billing"]


def test_nothing_without_a_function() -> None:
    assert function_refs(["deploy went fine", "FunctionName = orders"]) == []


def test_access_error_found_in_attachments() -> None:
    message = {
        "text": "from the logs:",
        "attachments": [
            {
                "text": "An error occurred (AccessDeniedException) when calling the GetItem "
                "operation: User: arn:aws:sts::111111111111:assumed-role/orders-role/orders "
                "is not authorized to perform: dynamodb:GetItem on resource: "
                "arn:aws:dynamodb:us-east-1:111111111111:table/orders"
            }
        ],
    }
    found = access_error(texts_of(message))
    assert found is not None
    assert "dynamodb:GetItem" in found
    assert access_error(["all good"]) is None


def test_unwrap_links_and_mentions() -> None:
    assert unwrap_links("<@U123> check <https://x.test/a?b=1&amp;c=2|here>") == (
        "  check https://x.test/a?b=1&c=2"
    )


def test_cloudwatch_sns_json_value_first() -> None:
    body = (
        '{"AlarmName":"orders-errors","AWSAccountId":"444444444444","NewStateValue":"ALARM",'
        '"Region":"US East (N. Virginia)",'
        '"AlarmArn":"arn:aws:cloudwatch:us-east-1:444444444444:alarm:orders-errors",'
        '"Trigger":{"MetricName":"Errors","Namespace":"AWS/Lambda",'
        '"Dimensions":[{"value":"orders","name":"FunctionName"}]}}'
    )
    assert function_refs([body]) == ["arn:aws:lambda:us-east-1:444444444444:function:orders"]


def test_chatbot_title_without_an_arn() -> None:
    texts = [
        "CloudWatch Alarm | orders-errors | eu-central-1 | Account: 555555555555",
        "Dimensions: FunctionName = orders",
    ]
    assert function_refs(texts) == ["arn:aws:lambda:eu-central-1:555555555555:function:orders"]
