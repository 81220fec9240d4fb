"""Pure IAM policy engine: parse, match, conditions, evaluate. No I/O."""
