"""Pure IAM policy engine: parse, match, conditions, evaluate. No I/O.

```python
policy = parse_policy(document, "identity[0]")
decision = evaluate(Request(principal=..., action=..., resource=...), PolicySet(identity=[policy]))
```
See docs/iam.md for the rules implemented.
"""

from bot.iam.evaluate import evaluate
from bot.iam.memo import clear_memos, set_memoisation
from bot.iam.model import (
    ContextValue,
    Decision,
    PolicyType,
    Request,
    StatementRef,
    Verdict,
)
from bot.iam.policy import Policy, PolicyError, PolicySet, Statement, parse_policy

__all__ = [
    "ContextValue",
    "Decision",
    "Policy",
    "PolicyError",
    "PolicySet",
    "PolicyType",
    "Request",
    "Statement",
    "StatementRef",
    "Verdict",
    "clear_memos",
    "evaluate",
    "parse_policy",
    "set_memoisation",
]
