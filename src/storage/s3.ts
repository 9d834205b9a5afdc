import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ProvenantError } from '../errors.ts';
import { isNoSuchKey, isPreconditionFailure, s3Error } from './s3-errors.ts';
import type { ImmutablePutResult, ObjectProps, Storage, StoredObject } from './storage.ts';

/**
 * The S3 backend: a repository is `s3://bucket[/prefix]`. The publish protocol's two primitives
 * map onto S3 conditional writes: create-only is `If-None-Match: *`, compare-and-swap is
 * `If-Match: <etag>` (both enforced by S3 since 2024 and by MinIO), so no lock service is needed.
 */
export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
}

export interface S3StorageOptions {
  /** Default: the SDK's chain (AWS_REGION, AWS_DEFAULT_REGION, the profile's region). */
  region?: string;
  /** An S3-compatible server (MinIO, ...). Path-style addressing is then used unless told otherwise. */
  endpointUrl?: string;
  forcePathStyle?: boolean;
  /** Default: the SDK's chain (env, profiles/SSO, web identity for GitHub OIDC, container/instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, including the first (the SDK retries throttling, 5xx and network errors). */
  maxAttempts?: number;
  requestTimeoutMs?: number;
}

export interface S3ObjectStream {
  /** Content-Length as the server declared it (not trusted: callers cap what they read). */
  declaredLength: number | undefined;
  etag: string;
  chunks: AsyncIterable<Uint8Array>;
  cancel(): void;
}

const S3_URL = /^s3:\/\/([^/]+)(?:\/(.*))?$/;
// Bucket naming rules (lower case, digits, dots, hyphens; 3–63 chars), loose enough for S3-compatible servers.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Url(location: string): boolean {
  return location.startsWith('s3://');
}

export function parseS3Url(url: string): S3Location {
  const m = S3_URL.exec(url);
  const bucket = m?.[1];
  if (!m || bucket === undefined || !BUCKET_NAME.test(bucket)) {
    throw new ProvenantError('E_S3_LOCATION', `not an S3 repository location: ${JSON.stringify(url)}`, {
      exitClass: 'usage',
      field: '--repository',
      hint: 'use s3://<bucket> or s3://<bucket>/<prefix>, with a valid bucket name (lower case, 3–63 characters)',
    });
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((s) => s === '.' || s === '..') || prefix.includes('//')) {
    throw new ProvenantError('E_S3_LOCATION', `invalid key prefix in ${url}`, {
      exitClass: 'usage',
      field: '--repository',
      hint: 'the prefix must be a plain path like releases/stable',
    });
  }
  return { bucket, prefix };
}

export class S3Storage implements Storage {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly casClient: S3Client;

  constructor(url: string, options: S3StorageOptions = {}) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    const config: S3ClientConfig = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
      forcePathStyle: options.forcePathStyle ?? options.endpointUrl !== undefined,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // The SDK's default CRC32 request checksums and response validation are rejected or
      // mishandled by several S3-compatible servers; plain PUTs work everywhere.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A bucket in another region answers 301; follow it instead of failing on a wrong default.
      followRegionRedirects: true,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: 10_000, requestTimeout: options.requestTimeoutMs ?? 120_000, throwOnRequestTimeout: true },
    };
    this.client = new S3Client(config);
    this.casClient = new S3Client({ ...config, maxAttempts: 1 });
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const Key = this.keyOf(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      return { bytes, etag: res.ETag ?? '' };
    } catch (e) {
      if (isNoSuchKey(e)) return undefined;
      throw this.fail(e, 'GetObject', key);
    }
  }

  /**
   * Streams an object instead of buffering it (for downloads through `s3://` with credentials):
   * undefined when the key does not exist. The caller reads `chunks` to the end or calls cancel().
   */
  async stream(key: string): Promise<S3ObjectStream | undefined> {
    let res;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    } catch (e) {
      if (isNoSuchKey(e)) return undefined;
      throw this.fail(e, 'GetObject', key);
    }
    const body = res.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    async function* chunks(): AsyncIterable<Uint8Array> {
      if (body) yield* body;
    }
    return {
      declaredLength: res.ContentLength,
      etag: res.ETag ?? '',
      chunks: chunks(),
      cancel: () => body?.destroy?.(),
    };
  }

  async putImmutable(key: string, bytes: Uint8Array, props: ObjectProps): Promise<ImmutablePutResult> {
    // 409 means another conditional write to this key is in flight: wait for it to settle, then compare.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.send(key, bytes, props, { IfNoneMatch: '*' });
        return 'created';
      } catch (e) {
        if (!isPreconditionFailure(e)) throw this.fail(e, 'PutObject', key);
      }
      const existing = await this.get(key);
      if (existing) {
        if (Buffer.from(existing.bytes).equals(Buffer.from(bytes))) return 'identical';
        throw new ProvenantError('E_IMMUTABLE_CONFLICT', `${key} already exists in ${this.location} with different content`, {
          exitClass: 'conflict',
          file: `${this.location}/${key}`,
          hint: 'published objects are immutable; publish under a new version instead',
        });
      }
      if (attempt >= 5) throw new ProvenantError('E_S3_REQUEST', `could not create ${key} in ${this.location}: the server kept refusing a create-only write`, {
          exitClass: 'network',
          hint: 'check that the server supports conditional writes (If-None-Match: *), then rerun (publishing is safe to retry)',
        });
      await sleep(50 * 2 ** attempt);
    }
  }

  async putIfMatch(key: string, bytes: Uint8Array, props: ObjectProps, expectedEtag: string | undefined): Promise<string> {
    const condition = expectedEtag === undefined ? { IfNoneMatch: '*' } : { IfMatch: expectedEtag };
    try {
      // No automatic retry: if a first attempt landed but its answer was lost, the retry would fail
      // its own precondition and a success would be reported as a conflict (or, worse, a
      // conflict as a success). A network error is surfaced instead; the caller re-reads.
      return await this.send(key, bytes, props, condition, this.casClient);
    } catch (e) {
      // If-Match on a missing object is a 404 on S3: the object changed (was removed) since it was read.
      if (!isPreconditionFailure(e) && !(expectedEtag !== undefined && isNoSuchKey(e))) throw this.fail(e, 'PutObject', key);
      throw new ProvenantError(
        'E_CAS_CONFLICT',
        `${key} in ${this.location} changed since it was read (expected ${expectedEtag ?? 'no object'})`,
        { exitClass: 'conflict', file: `${this.location}/${key}`, hint: 're-read the object and retry' },
      );
    }
  }

  async put(key: string, bytes: Uint8Array, props: ObjectProps): Promise<void> {
    try {
      await this.send(key, bytes, props, {});
    } catch (e) {
      throw this.fail(e, 'PutObject', key);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const res = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key.slice(base.length));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw this.fail(e, 'ListObjectsV2', prefix || undefined);
    }
    return keys.sort();
  }

  /** Releases the client's sockets (a CLI run ends without it; long-lived callers should call it). */
  close(): void {
    this.client.destroy();
    this.casClient.destroy();
  }

  private async send(
    key: string,
    bytes: Uint8Array,
    props: ObjectProps,
    condition: Partial<PutObjectCommandInput>,
    client: S3Client = this.client,
  ): Promise<string> {
    const Key = this.keyOf(key);
    const res = await client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: props.contentType,
        ...(props.cacheControl ? { CacheControl: props.cacheControl } : {}),
        ...condition,
      }),
    );
    if (res.ETag) return res.ETag;
    // Some S3-compatible servers omit the ETag on PUT; the next compare-and-swap needs it.
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
    return head.ETag ?? '';
  }

  private keyOf(key: string): string {
    const segments = key.split('/');
    if (key.length === 0 || key.includes('\\') || key.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw new ProvenantError('E_STORAGE_KEY', `invalid storage key ${JSON.stringify(key)}`, {
        exitClass: 'internal',
        hint: 'keys are relative slash-separated paths without empty, `.` or `..` segments',
      });
    }
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private fail(e: unknown, operation: string, key?: string): ProvenantError {
    return s3Error(e, { location: this.location, operation, ...(key === undefined ? {} : { key }) });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
