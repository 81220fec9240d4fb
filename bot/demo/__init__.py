"""`lambda-why demo`: realistic broken and healthy Lambda setups seeded in a local moto server.

`bot.demo.moto` runs the moto server, `bot.demo.scenarios` seeds it (boto3 writes: this is
demo and test data, never the read-only collectors), `bot.demo.run` drives the whole flow.
"""
