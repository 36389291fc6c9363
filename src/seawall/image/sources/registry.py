"""Images in a registry, over the OCI distribution API (client: ``registry_client``)."""

from __future__ import annotations

from typing import ClassVar

from seawall.image.manifest import (
    ImageConfig,
    build_image_info,
    decode_json,
    index_entries,
    is_index,
    load_json,
    manifest_parts,
    select_platform,
)
from seawall.image.reference import looks_like_reference, parse_reference
from seawall.image.source import (
    ImageSource,
    LayerBlob,
    LayerReader,
    OpenedImage,
    SourceOptions,
    register_source,
)


@register_source
class RegistrySource(ImageSource):
    """An image in a registry speaking the OCI distribution API."""

    name = "registry"
    description = "an image in a registry (OCI distribution API)"
    priority: ClassVar[int] = 90

    def detect(self, target: str, options: SourceOptions) -> bool:
        return looks_like_reference(target)

    def open(self, target: str, options: SourceOptions, read_layer: LayerReader) -> OpenedImage:
        from seawall.image.registry_client import RegistryClient  # httpx: only when needed

        ref = parse_reference(target)
        client = RegistryClient(ref, options)
        try:
            body, digest = client.manifest(ref.selector)
            doc = load_json(body, f"{ref}: manifest")
            if is_index(doc):
                chosen = select_platform(index_entries(doc, str(ref)), options.platform, str(ref))
                body, digest = client.manifest(chosen.digest)
                doc = load_json(body, f"{ref}: manifest")
            config_desc, layer_descs = manifest_parts(doc, f"{ref}: manifest")
            config = decode_json(
                client.small_blob(config_desc.digest, "config"), ImageConfig, "image config"
            )
            info = build_image_info(
                reference=str(ref),
                source=self.name,
                config=config,
                config_digest=config_desc.digest,
                manifest_digest=digest,
                layers=[(d.digest, d.size, d.media_type) for d in layer_descs],
                repo_tags=(str(ref),),
            )
            blobs = tuple(
                LayerBlob(info=layer, blob=client.blob_ref(d.digest, d.size), digest=d.digest)
                for layer, d in zip(info.layers, layer_descs, strict=True)
            )
        finally:
            client.close()
        return OpenedImage(info=info, layers=blobs)
