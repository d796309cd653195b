"""The `abis` command: the service's commands and the operator tooling's, in one."""
