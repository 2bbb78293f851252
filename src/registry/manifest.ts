export const MANIFEST_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  /** Present on an image manifest. */
  config?: Descriptor;
  layers?: Descriptor[];
  /** Present on an index / manifest list. */
  manifests?: Descriptor[];
}

export function isIndex(manifest: Pick<Manifest, 'mediaType'>): boolean {
  return manifest.mediaType === MANIFEST_TYPES.ociIndex || manifest.mediaType === MANIFEST_TYPES.dockerList;
}
