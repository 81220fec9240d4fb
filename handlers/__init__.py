"""Bolt listeners: parse, authorize, ack, enqueue, reply. Nothing else."""
