import assert from 'node:assert/strict';
import fs from 'node:fs';
import { link, mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { isProvenantError, type ProvenantError } from '../../src/errors.ts';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { tempDir } from '../helpers/peers.ts';
import { copyExample, expectBuildError } from '../wheel/helpers.ts';

/*
 * A hostile integration tree (an untrusted pull request built in CI) tries to get a file from
 * outside the tree into the wheel or its METADATA, past the input gate (src/wheel/input-file.ts).
 */

const SECRET = 'AWS_SECRET_ACCESS_KEY=hunter2\n__version__ = "6.6.6"\n';

async function outsideSecret(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await tempDir(t, 'provenant-outside-');
  const file = path.join(dir, 'secret');
  await writeFile(file, SECRET);
  return file;
}

async function linkAs(dir: string, rel: string, target: string): Promise<void> {
  await fs.promises.rm(path.join(dir, rel), { force: true });
  await symlink(target, path.join(dir, rel));
}

async function editPyproject(dir: string, edit: (s: string) => string): Promise<void> {
  const f = path.join(dir, 'pyproject.toml');
  await writeFile(f, edit(await readFile(f, 'utf8')));
}

/*
 * Hard links. A link made in the tree to a file outside it (a key file a later CI step fills in
 * place, for instance) is a regular file whose path is inside the tree: symlink checks cannot see
 * it. git never makes hard links, so an input with more than one name is refused.
 */
test('a hard link to a file outside the tree, as readme, license file, version file or package file: E_BUILD_INPUT_HARDLINK', async (t) => {
  const cases: { rel: string; field: RegExp; setup?: (dir: string) => Promise<void> }[] = [
    { rel: 'README.md', field: /^project\.readme$/ },
    {
      rel: 'LICENSE.txt', field: /^project\.license\.file$/,
      setup: async (dir) => {
        await writeFile(path.join(dir, 'LICENSE.txt'), 'BSD\n');
        await editPyproject(dir, (s) => s.replace('license = "BSD-3-Clause"', 'license = { file = "LICENSE.txt" }'));
      },
    },
    { rel: 'datadog_checks/nginx/__about__.py', field: /^tool\.hatch\.version\.path$/ },
    { rel: 'datadog_checks/nginx/nginx.py', field: /^tool\.hatch\.build\.targets\.wheel\.include$/ },
  ];
  for (const c of cases) {
    const secret = await outsideSecret(t);
    const dir = await copyExample(t, 'nginx');
    await c.setup?.(dir);
    await fs.promises.rm(path.join(dir, c.rel));
    await link(secret, path.join(dir, c.rel));
    const e = await expectBuildError(dir, 'E_BUILD_INPUT_HARDLINK', { field: c.field });
    assert.match(e.message, new RegExp(`"${c.rel.replaceAll('.', '\\.')}" has 2 hard links`), c.rel);
    assert.doesNotMatch(JSON.stringify(e.toJSON()), /hunter2/);
  }
});

/*
 * Races. The gate decides where a path leads, then opens it; a process of the attacker's running
 * beside the build swaps a directory on that path for a symlink in between. The swap is made here
 * at the worst instant, right before the gate's open(), by wrapping fs.openSync.
 */
/** Without /proc (macOS, BSD) the gate resolves the path again instead of asking the kernel: both are tried. */
function withoutProcFd(t: { after(fn: () => unknown): void }): void {
  const realReadlink = fs.readlinkSync;
  fs.readlinkSync = ((p: fs.PathLike, o?: unknown) => {
    if (String(p).startsWith('/proc/self/fd/')) throw Object.assign(new Error(`ENOENT: ${String(p)}`), { code: 'ENOENT' });
    return realReadlink(p, o as never);
  }) as typeof fs.readlinkSync;
  syncBuiltinESMExports();
  t.after(() => {
    fs.readlinkSync = realReadlink;
    syncBuiltinESMExports();
  });
}

function swapBeforeOpen(t: { after(fn: () => unknown): void }, when: (p: string) => boolean, swap: () => void): { swapped: () => boolean } {
  const realOpen = fs.openSync;
  let done = false;
  fs.openSync = ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null) => {
    if (!done && typeof p === 'string' && when(p)) {
      done = true;
      swap();
    }
    return realOpen(p, flags ?? 'r', mode);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();
  t.after(() => {
    fs.openSync = realOpen;
    syncBuiltinESMExports();
  });
  return { swapped: () => done };
}

async function buildError(dir: string): Promise<ProvenantError> {
  let caught: unknown;
  let built: Awaited<ReturnType<typeof buildWheel>> | undefined;
  try {
    built = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  } catch (e) {
    caught = e;
  }
  if (built) assert.doesNotMatch(new TextDecoder().decode(built.metadata), /hunter2/, 'the secret reached METADATA');
  assert.ok(isProvenantError(caught), `expected a refusal, got ${caught === undefined ? 'a wheel' : String(caught)}`);
  return caught;
}

for (const proc of [true, false]) {
test(`race${proc ? '' : ' (no /proc)'}: the readme's directory swapped for a symlink out of the tree between the check and the open: E_PATH_ESCAPES`, async (t) => {
  if (!proc) withoutProcFd(t);
  const secret = await outsideSecret(t);
  const dir = await copyExample(t, 'nginx');
  await mkdir(path.join(dir, 'docs'));
  await rename(path.join(dir, 'README.md'), path.join(dir, 'docs/README.md'));
  await editPyproject(dir, (s) => s.replace('readme = "README.md"', 'readme = "docs/README.md"'));
  await fs.promises.rename(secret, path.join(path.dirname(secret), 'README.md'));
  const race = swapBeforeOpen(t, (p) => p.endsWith('/docs/README.md'), () => {
    fs.renameSync(path.join(dir, 'docs'), path.join(dir, 'docs.orig'));
    fs.symlinkSync(path.dirname(secret), path.join(dir, 'docs'));
  });
  const e = await buildError(dir);
  assert.ok(race.swapped(), 'the swap never happened');
  assert.equal(e.code, 'E_PATH_ESCAPES', e.describe());
  assert.equal(e.field, 'project.readme');
});

test(`race${proc ? '' : ' (no /proc)'}: a package directory swapped for a symlink out of the tree after the walk listed it: E_PATH_ESCAPES`, async (t) => {
  if (!proc) withoutProcFd(t);
  const dir = await copyExample(t, 'nginx');
  const pkg = path.join(dir, 'datadog_checks/nginx');
  // Outside: the package's files, with nginx.py the secret (so the rest of the walk goes on).
  const outside = path.join(await tempDir(t, 'provenant-outside-'), 'nginx');
  await fs.promises.cp(pkg, outside, { recursive: true });
  await writeFile(path.join(outside, 'nginx.py'), SECRET);
  const race = swapBeforeOpen(t, (p) => p === path.join(pkg, 'nginx.py'), () => {
    fs.renameSync(pkg, `${pkg}.orig`);
    fs.symlinkSync(outside, pkg);
  });
  const e = await buildError(dir);
  assert.ok(race.swapped(), 'the swap never happened');
  assert.equal(e.code, 'E_PATH_ESCAPES', e.describe());
  assert.match(e.message, /"datadog_checks\/nginx\/nginx\.py" resolves to .*provenant-outside-/);
});
}

test('the gate still reads symlinks that stay inside and plain files: the race guard refuses nothing legitimate', async (t) => {
  const dir = await copyExample(t, 'nginx');
  await mkdir(path.join(dir, 'docs'));
  await rename(path.join(dir, 'README.md'), path.join(dir, 'docs/README.md'));
  await symlink('docs/README.md', path.join(dir, 'README.md'));
  const built = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
  assert.match(new TextDecoder().decode(built.metadata), /# Agent Check: NGINX/);
});

/*
 * Refused by the gate as it stands (each case not covered elsewhere): what a pull request can
 * write into pyproject.toml or the tree to reach outside it.
 */
test('refused: absolute and climbing paths in the settings, links into /proc, and unsupported ways to add files', async (t) => {
  const cases: { attack: string; code: string; field?: RegExp; setup: (dir: string) => Promise<void> }[] = [
    { attack: 'readme = {file = "/etc/passwd"}', code: 'E_PATH_ESCAPES', field: /^project\.readme/, setup: (d) => editPyproject(d, (s) => s.replace('readme = "README.md"', 'readme = {file = "/etc/passwd", content-type = "text/plain"}')) },
    { attack: 'readme = "../../../../etc/passwd.md"', code: 'E_PATH_ESCAPES', field: /^project\.readme$/, setup: (d) => editPyproject(d, (s) => s.replace('readme = "README.md"', 'readme = "../../../../etc/passwd.md"')) },
    {
      attack: 'version path = "/proc/self/environ"', code: 'E_PATH_ESCAPES', field: /^tool\.hatch\.version\.path$/,
      setup: (d) => editPyproject(d, (s) => s.replace('path = "datadog_checks/nginx/__about__.py"', 'path = "/proc/self/environ"')),
    },
    {
      attack: 'license-files = ["../../*"]', code: 'E_PATH_ESCAPES', field: /^project\.license-files/,
      setup: (d) => editPyproject(d, (s) => s.replace('license = "BSD-3-Clause"', 'license = "BSD-3-Clause"\nlicense-files = ["../../*"]')),
    },
    {
      attack: 'include = ["../../*"]', code: 'E_PATH_ESCAPES',
      setup: (d) => editPyproject(d, (s) => s.replace('"/datadog_checks/nginx",', '"../../*",')),
    },
    {
      attack: 'force-include of /etc/passwd', code: 'E_PYPROJECT_FIELD',
      setup: (d) => editPyproject(d, (s) => `${s}\n[tool.hatch.build.targets.wheel.force-include]\n"/etc/passwd" = "datadog_checks/nginx/passwd"\n`),
    },
    { attack: 'README.md -> /proc/self/cwd/package.json', code: 'E_PATH_ESCAPES', field: /^project\.readme$/, setup: (d) => linkAs(d, 'README.md', '/proc/self/cwd/package.json') },
    { attack: 'README.md -> /proc/self/root/etc/hostname', code: 'E_PATH_ESCAPES', field: /^project\.readme$/, setup: (d) => linkAs(d, 'README.md', '/proc/self/root/etc/hostname') },
  ];
  const verdicts: string[] = [];
  for (const c of cases) {
    const dir = await copyExample(t, 'nginx');
    await c.setup(dir);
    let verdict = 'built';
    try {
      await buildWheel(dir, { sourceDateEpoch: 1580601600 });
    } catch (e) {
      verdict = isProvenantError(e) ? `${e.code}${c.field && !c.field.test(e.field ?? '') ? ` (field ${e.field})` : ''}` : String(e);
    }
    verdicts.push(`${c.attack}: ${verdict}`);
  }
  assert.deepEqual(verdicts, cases.map((c) => `${c.attack}: ${c.code}`));
});
