"""The bulk client: loads an `abis synth` directory through the service's bulk endpoint."""
