/**
 * Fuzz target: .gitignore lines, as the wheel builder reads them from the source tree
 * (readProject of the example postgres integration with this .gitignore: the walk that selects
 * the wheel's files; compressing them is not the .gitignore's business), and the same lines as
 * the include and exclude patterns of [tool.hatch.build.targets.wheel] (createFileSelector),
 * asked about every path of the tree and about the lines themselves as paths (those a file system
 * could hold).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createFileSelector } from '../../src/wheel/file-selection.ts';
import { readProject } from '../../src/wheel/project-reader.ts';
import { REPO_ROOT } from '../engine/targets.ts';
import { makeProjectTree } from '../lib/project-tree.ts';

const dir = makeProjectTree('gitignore');
writeFileSync(path.join(dir, 'pyproject.toml'), readFileSync(path.join(REPO_ROOT, 'examples/integrations/postgres/pyproject.toml')));
const paths = (readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/'));

/** What a file system can hold: at most 4096 bytes, 255 per name (Linux's PATH_MAX and NAME_MAX). */
function possiblePath(p: string): boolean {
  return p.length > 0 && Buffer.byteLength(p) <= 4096 && p.split('/').every((s) => Buffer.byteLength(s) <= 255);
}

export function fuzz(data: Buffer): void {
  writeFileSync(path.join(dir, '.gitignore'), data);
  readProject(dir);
  const lines = data.toString('utf8').split(/(?<=\n)/).slice(0, 200);
  for (const [include, exclude] of [[lines, []], [undefined, lines]] as const) {
    const selector = createFileSelector({
      config: {
        include: include ? [...include] : undefined,
        exclude: [...exclude],
        ignoreVcs: true,
        skipExcludedDirs: true,
        where: { file: 'pyproject.toml', include: 'tool.hatch.build.targets.wheel.include', exclude: 'tool.hatch.build.targets.wheel.exclude' },
      },
      vcsPatterns: [],
      absoluteRoot: dir,
      defaultInclude: ['/datadog_checks/postgres/'],
      pyprojectFile: path.join(dir, 'pyproject.toml'),
    });
    for (const p of [...paths, ...lines.map((l) => l.trim()).filter(possiblePath)]) {
      selector.isFileIncluded(p);
      selector.mayContainIncluded(p);
      selector.isDirectoryExcluded(path.posix.basename(p), path.posix.dirname(p));
    }
  }
}
