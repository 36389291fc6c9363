"""Package inventory of images: analyzers per package format, layer reading and merging."""
