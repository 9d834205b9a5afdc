/**
 * A repository's objects, addressed by slash-separated keys relative to the repository root
 * (e.g. `metadata/timestamp.json`). Implemented by the local-directory and S3 backends; the
 * publish protocol (immutable objects first, then a compare-and-swap on timestamp.json) is
 * written once against this interface.
 */
export interface ObjectProps {
  contentType: string;
  cacheControl?: string;
}

export interface StoredObject {
  bytes: Uint8Array;
  /** Opaque version tag for compare-and-swap (S3 ETag, or a content hash on the local backend). */
  etag: string;
}

export type ImmutablePutResult = 'created' | 'identical';

export interface Storage {
  /** Human-readable location, e.g. `/abs/path/repository` or `s3://bucket/prefix`. */
  readonly location: string;

  /** The object, or undefined when it does not exist. */
  get(key: string): Promise<StoredObject | undefined>;

  /**
   * Create-only write. Resolves 'identical' when the same bytes already exist; rejects with
   * ProvenantError code E_IMMUTABLE_CONFLICT (exit class 'conflict') when different bytes do.
   */
  putImmutable(key: string, bytes: Uint8Array, props: ObjectProps): Promise<ImmutablePutResult>;

  /**
   * Compare-and-swap write: succeeds only if the current etag equals `expectedEtag`
   * (undefined: the object must not exist yet). Rejects with ProvenantError code E_CAS_CONFLICT
   * (exit class 'conflict') otherwise. Resolves with the new etag.
   */
  putIfMatch(key: string, bytes: Uint8Array, props: ObjectProps, expectedEtag: string | undefined): Promise<string>;

  /** Unconditional overwrite, only for derived objects that can be regenerated (index pages). */
  put(key: string, bytes: Uint8Array, props: ObjectProps): Promise<void>;

  /** Keys under a prefix (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
}
