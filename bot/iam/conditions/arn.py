"""ARN operators: ArnEquals, ArnLike, ArnNotEquals, ArnNotLike.

ArnEquals and ArnLike behave alike: the ARN is compared segment by segment, each of the
six colon-separated segments matching its own pattern (wildcards allowed). Policy variables
are resolved.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
"""

from __future__ import annotations

from collections.abc import Callable

from bot.iam.variables import Context, compile_source, parse_template
from bot.iam.wildcard import compile_arn_glob

OPERATORS: dict[str, tuple[str, bool]] = {
    "ArnEquals": ("arnlike", False),
    "ArnLike": ("arnlike", False),
    "ArnNotEquals": ("arnlike", True),
    "ArnNotLike": ("arnlike", True),
}


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    del op
    patterns = []
    templates = []
    for value in values:
        template = parse_template(value, variables)
        if template is None:
            patterns.append(compile_arn_glob(value, strict=True))
        else:
            templates.append(template)

    def test(value: str, ctx: Context) -> bool:
        for pattern in patterns:
            if pattern.fullmatch(value):
                return True
        for template in templates:
            source = template.glob_source(ctx, arn=True, strict=True)
            if source is not None and compile_source(source).fullmatch(value):
                return True
        return False

    return test
