"""Shard servers: one partition of the gallery (dataset_id mod P) behind gRPC.

    protocol/    shard.proto and its generated messages (committed; `make proto`)
    codec.py     matcher types <-> protocol messages
    partition.py one partition's gallery: load (snapshot + log replay), apply, catch up
    server.py    `abis shard`: the gRPC service and the standard health service
    remote.py    the writer's side: fan-out search and change pushes to every replica
    tls.py       mutual TLS between writer and shards, and the dev CA command
"""
