import type { Command } from 'commander';
import path from 'node:path';
import { addStorageOptions, storageOptionsFrom, type StorageFlags } from './storage-flags.ts';
import { checkKeysOutsideRepository } from '../signers/key-store.ts';
import { FsStorage } from '../storage/fs.ts';
import { openStorage } from '../storage/open.ts';
import type { Storage } from '../storage/storage.ts';

export { addStorageOptions, storageOptionsFrom, type StorageFlags };

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
