// Runs the test suite with Node's test runner. Arguments narrow it: `npm test -- test/build`.
import { spawnSync } from 'node:child_process';
import { globSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const roots = args.length > 0 ? args : ['test'];
const files = roots.flatMap((r) => (statSync(r).isDirectory() ? globSync(`${r}/**/*.test.ts`) : [r])).sort();
if (files.length === 0) {
  console.error(`run-tests: no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
