"""The Slack app: Block Kit builders, catalogues, the Bolt app factory, a Web API double."""
