// Trees of real integrations-core integrations (test/fixtures/integrations-core), laid out as in
// a checkout: the repository's .gitignore at the root, one directory per integration.
import { cp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { python, REPO_ROOT } from './peers.ts';

export const INTEGRATIONS_CORE = path.join(REPO_ROOT, 'test/fixtures/integrations-core');

/** The fixture integrations' directory names, sorted. */
export async function integrationsCoreNames(): Promise<string[]> {
  const entries = await readdir(INTEGRATIONS_CORE, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (names.length < 4) throw new Error(`expected the integrations-core fixtures in ${INTEGRATIONS_CORE}, found ${names.join(', ')}`);
  return names;
}

/**
 * Writes a tree into `root` (which must exist): every fixture integration `copies` times. Copy 0
 * is the integration as it is; copy k is the same source under another project (`<dir>_k`,
 * project `<project>-k`, package `datadog_checks/<dir>_k`), so a release can hold them all.
 * Returns the integration directory names.
 */
export async function integrationsCoreTree(root: string, copies = 1): Promise<string[]> {
  await cp(path.join(INTEGRATIONS_CORE, '.gitignore'), path.join(root, '.gitignore'));
  const out: string[] = [];
  for (const name of await integrationsCoreNames()) {
    for (let k = 0; k < copies; k++) {
      const dir = k === 0 ? name : `${name}_${k}`;
      await cp(path.join(INTEGRATIONS_CORE, name), path.join(root, dir), { recursive: true });
      if (k > 0) {
        await rename(path.join(root, dir, 'datadog_checks', name), path.join(root, dir, 'datadog_checks', dir));
        const pyproject = path.join(root, dir, 'pyproject.toml');
        const text = await readFile(pyproject, 'utf8');
        const renamed = text
          .replace(/^name = "([^"]+)"$/m, (_, p: string) => `name = "${p}-${k}"`)
          .replaceAll(`datadog_checks/${name}/`, `datadog_checks/${dir}/`)
          .replaceAll(`datadog_checks/${name}"`, `datadog_checks/${dir}"`);
        if (renamed === text) throw new Error(`could not rename ${name} in ${pyproject}`);
        await writeFile(pyproject, renamed);
      }
      out.push(dir);
    }
  }
  return out.sort();
}

/** hatchling's WheelBuilder in one Python process (a process per wheel would take minutes). */
const HATCHLING_DIGESTS = `
import hashlib, json, os, sys, tempfile
from hatchling.builders.wheel import WheelBuilder
out = tempfile.mkdtemp()
digests = {}
for root in json.loads(sys.argv[1]):
    for wheel in WheelBuilder(root).build(directory=out, versions=["standard"]):
        digests[os.path.basename(wheel)] = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
print(json.dumps(digests))
`;

/** The sha256 of the wheel hatchling builds from each directory, by wheel file name. */
export async function hatchlingDigests(dirs: string[], sourceDateEpoch: string): Promise<Record<string, string>> {
  const { stdout } = await python(['-c', HATCHLING_DIGESTS, JSON.stringify(dirs)], { env: { ...process.env, SOURCE_DATE_EPOCH: sourceDateEpoch } });
  return JSON.parse(stdout) as Record<string, string>;
}
