import type { Command } from 'commander';
import path from 'node:path';
import { checkKeysOutsideRepository } from '../signers/key-store.ts';
import { FsStorage } from '../storage/fs.ts';
import { openStorage, type OpenStorageOptions } from '../storage/open.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * The flags every command taking `--repository` shares for S3 repositories, so they are spelled
 * and explained once. Credentials are never flags: they come from the AWS SDK's default chain.
 */
export function addStorageOptions(cmd: Command): Command {
  return cmd
    .option('--region <region>', 'AWS region of an s3:// repository (default: AWS_REGION or the profile\'s region), e.g. eu-north-1')
    .option('--endpoint-url <url>', 'S3-compatible server for s3:// repositories, e.g. http://127.0.0.1:9000 (MinIO); uses path-style addressing')
    .option('--no-path-style', 'with --endpoint-url: use virtual-host addressing (bucket.host) instead of path-style');
}

export interface StorageFlags {
  region?: string;
  endpointUrl?: string;
  pathStyle?: boolean;
}

export function storageOptionsFrom(flags: StorageFlags, ctx: { cwd: string; env: NodeJS.ProcessEnv }): OpenStorageOptions {
  return {
    cwd: ctx.cwd,
    env: ctx.env,
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpointUrl ? { endpointUrl: flags.endpointUrl } : {}),
    ...(flags.pathStyle === false ? { forcePathStyle: false } : {}),
  };
}

/** `--repository` and `--keys` (with the S3 flags): every command that writes to a repository. */
export function addRepositoryOptions(cmd: Command, keysHelp = 'key store directory (kept outside the repository)'): Command {
  return addStorageOptions(
    cmd.option('--repository <dir>', 'repository directory or s3://bucket[/prefix]', 'repository').option('--keys <dir>', keysHelp, 'keys'),
  );
}

export interface RepositoryFlags extends StorageFlags {
  repository: string;
  keys: string;
}

/** The repository a command writes to and the key store that signs it (never inside it). */
export function openRepository(ctx: { cwd: string; env: NodeJS.ProcessEnv }, flags: RepositoryFlags): { storage: Storage; keysDir: string } {
  const storage = openStorage(flags.repository, storageOptionsFrom(flags, ctx));
  const keysDir = path.resolve(ctx.cwd, flags.keys);
  if (storage instanceof FsStorage) checkKeysOutsideRepository(keysDir, storage.root);
  return { storage, keysDir };
}
