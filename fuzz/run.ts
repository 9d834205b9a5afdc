/**
 * `npm run fuzz -- [target…] [--seconds N] [--seed S]`: fuzzes each target (all of them when
 * none is named) for N seconds (default 60) under c8, then prints what the fuzzing reached:
 * branch coverage of each target's parser modules (V8 coverage). Exit 1 when a target broke
 * the contract (the inputs are under fuzz/crashes/<target>/).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, TARGETS, targetSpec } from './engine/targets.ts';

/** The coverage the fuzzing aims for, per target (docs/fuzzing.md lists what stays unreached). */
const AIM = 90;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' } },
});
const specs = positionals.length === 0 || positionals.includes('all') ? TARGETS : positionals.map(targetSpec);
const c8 = path.join(REPO_ROOT, 'node_modules/c8/bin/c8.js');
const rows: { name: string; ok: boolean; branches: number; files: string[] }[] = [];

for (const spec of specs) {
  const reports = path.join(REPO_ROOT, '.tmp/fuzz-coverage', spec.name);
  rmSync(reports, { recursive: true, force: true });
  const args = [
    c8,
    '--reporter=json-summary',
    '--reporter=text',
    `--reports-dir=${reports}`,
    `--temp-directory=${path.join(reports, 'raw')}`,
    '--exclude-after-remap=false',
    ...spec.parsers.flatMap((p) => ['--include', p]),
    process.execPath,
    '--expose-gc',
    path.join(REPO_ROOT, 'fuzz/engine/main.ts'),
    spec.name,
    '--seconds',
    values.seconds,
    ...(values.seed ? ['--seed', values.seed] : []),
  ];
  console.log(`== fuzz ${spec.name} (${values.seconds}s): ${spec.what}`);
  const res = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  const summary = JSON.parse(readFileSync(path.join(reports, 'coverage-summary.json'), 'utf8')) as Record<string, { branches: { covered: number; total: number; pct: number } }>;
  const total = summary.total!.branches;
  const files = Object.entries(summary)
    .filter(([f]) => f !== 'total')
    .map(([f, s]) => `${path.relative(REPO_ROOT, f)} ${s.branches.pct.toFixed(1)}% (${s.branches.covered}/${s.branches.total})`);
  rows.push({ name: spec.name, ok: res.status === 0, branches: total.total === 0 ? 100 : (100 * total.covered) / total.total, files });
}

console.log('\n== fuzzing summary: branch coverage of each target\'s parser modules');
for (const r of rows) {
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(20)} ${r.branches.toFixed(1).padStart(5)}% branches${r.branches < AIM ? ` (below the ${AIM}% aim)` : ''}`);
  for (const f of r.files) console.log(`       ${f}`);
}
process.exit(rows.every((r) => r.ok) ? 0 : 1);
