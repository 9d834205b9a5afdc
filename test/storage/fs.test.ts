import { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsStorage } from '../../src/storage/fs.ts';
import { storageContract } from './contract.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

storageContract('local directory', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'provenant-fs-contract-'));
  dirs.push(dir);
  return new FsStorage(path.join(dir, 'repo'));
});
