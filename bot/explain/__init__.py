"""Explain pasted errors: parse AccessDenied / Lambda configuration messages (pure).

`parser.parse_message` turns a pasted message into a `ParsedError`; `evaluate` turns a
parsed error plus the policies read for it into findings; `diff` compares two snapshots.
No I/O here: the CLI (`bot/cli/explain.py`) reads what is needed and calls these.
"""
