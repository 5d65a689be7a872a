"""Benchmarks (DESIGN.md §11): each prints its figure beside the limit measured in the same run.

    uv run python -m bench            # all of them, with a summary table
    uv run python -m bench.outbox     # outbox relay ÷ raw JetStream async publish
    uv run python -m bench.consumer   # event consumer ÷ raw pull + ack

They use the running stack described in ``.data/stack.json`` when it is reachable, otherwise
they start their own Postgres and NATS in a temporary directory. Either way they work in a
scratch database and scratch streams with unique names, and drop them at the end.
"""
