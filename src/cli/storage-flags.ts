import type { Command } from 'commander';
import type { OpenStorageOptions } from '../storage/open.ts';

// Apart from storage-options.ts: `download` needs only these, and must not load the storage
// writers, the key store or the AWS SDK that opening a repository for writing pulls in.

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
