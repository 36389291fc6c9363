"""Where an image comes from: archives, OCI layouts, registries and the Docker daemon."""
