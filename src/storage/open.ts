import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { FsStorage } from './fs.ts';
import { isS3Url, S3Storage, type S3StorageOptions } from './s3.ts';
import type { Storage } from './storage.ts';
import { envValue } from '../util/env.ts';

/**
 * Picks the backend for a `--repository` value: `s3://bucket[/prefix]` is S3, anything else a
 * local directory (relative to `cwd`). Commands call this and stay backend-agnostic.
 */
export interface OpenStorageOptions extends S3StorageOptions {
  /** Base for relative directory paths. Default: process.cwd(). */
  cwd?: string;
  /** Environment read for AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL when no endpoint is given. */
  env?: NodeJS.ProcessEnv;
}

export function openStorage(location: string, options: OpenStorageOptions = {}): Storage {
  if (isS3Url(location)) {
    const { cwd: _cwd, env = process.env, ...s3 } = options;
    const endpointUrl = s3.endpointUrl ?? envValue(env, 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL');
    return new S3Storage(location, { ...s3, ...(endpointUrl ? { endpointUrl } : {}) });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new ProvenantError('E_STORAGE_LOCATION', `unsupported repository location ${JSON.stringify(location)}`, {
      exitClass: 'usage',
      field: '--repository',
      hint: 'use a local directory or s3://<bucket>[/<prefix>] (HTTP URLs are for downloads only)',
    });
  }
  return new FsStorage(path.resolve(options.cwd ?? process.cwd(), location));
}

