/**
 * One project directory holding every example integration (so each example's pyproject.toml
 * finds its package, version file and readme) plus the files the wheel builder's corner cases
 * look for (license globs, an rst readme, a module beside the packages, odd names).
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../engine/targets.ts';
import { scratchDir } from './scratch.ts';

const EXTRA: Record<string, string> = {
  'README.rst': 'Title\r\n=====\r\n',
  'LICENSES/MIT.txt': 'MIT\n',
  NOTICE: 'notice\n',
  'extra_module.py': 'X = 1\n',
  'tricky/__init__.py': '',
  'tricky/data/ünïcode-名前.txt': 'x\n',
  'tricky/[brackets] and spaces.py': '',
  'tricky/.hidden': '',
  'tricky/debug.log': '',
};

export function makeProjectTree(prefix: string): string {
  const dir = path.join(scratchDir(prefix), 'project');
  const examples = path.join(REPO_ROOT, 'examples/integrations');
  for (const name of readdirSync(examples)) {
    cpSync(path.join(examples, name), dir, { recursive: true, filter: (src) => !src.split(path.sep).includes('dist') });
  }
  for (const [rel, text] of Object.entries(EXTRA)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}
