import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildWheel } from '../../src/wheel/wheel.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { isProvenantError } from '../../src/errors.ts';
import { copyExample, exampleNames } from './helpers.ts';

for (const name of await exampleNames()) {
  test(`${name}: two builds give identical bytes; another SOURCE_DATE_EPOCH gives other bytes`, async (t) => {
    const dir = await copyExample(t, name);
    const a = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
    const b = await buildWheel(dir, { sourceDateEpoch: 1580601600 });
    assert.ok(a.bytes.length > 0);
    assert.equal(sha256Hex(a.bytes), sha256Hex(b.bytes));
    assert.deepEqual(a.metadata, b.metadata);
    const c = await buildWheel(dir, { sourceDateEpoch: 1700000000 });
    assert.notEqual(sha256Hex(c.bytes), sha256Hex(a.bytes));
    assert.equal(c.fileName, a.fileName);
    assert.deepEqual(c.metadata, a.metadata, 'the timestamp lives in the zip headers only');
  });
}

test('the returned description matches the example', async (t) => {
  const pg = await buildWheel(await copyExample(t, 'postgres'), { sourceDateEpoch: 1580601600 });
  assert.equal(pg.projectName, 'datadog-postgres');
  assert.equal(pg.normalizedName, 'datadog-postgres');
  assert.equal(pg.version, '23.2.0');
  assert.equal(pg.tag, 'py3-none-any');
  assert.equal(pg.fileName, 'datadog_postgres-23.2.0-py3-none-any.whl');
  assert.equal(pg.requiresPython, '>=3.9');
  assert.deepEqual(pg.entries, [
    'datadog_checks/postgres/__about__.py',
    'datadog_checks/postgres/__init__.py',
    'datadog_checks/postgres/cli.py',
    'datadog_checks/postgres/postgres.py',
    'datadog_checks/postgres/data/conf.yaml.example',
    'datadog_postgres-23.2.0.dist-info/METADATA',
    'datadog_postgres-23.2.0.dist-info/WHEEL',
    'datadog_postgres-23.2.0.dist-info/entry_points.txt',
    'datadog_postgres-23.2.0.dist-info/RECORD',
  ]);
  const md = new TextDecoder().decode(pg.metadata);
  assert.match(md, /^Metadata-Version: 2\.5\nName: datadog-postgres\nVersion: 23\.2\.0\n/);
  assert.match(md, /\nLicense-Expression: BSD-3-Clause\n/);
  assert.match(md, /\nRequires-Dist: datadog-checks-base>=37\.0\.0\nProvides-Extra: deps\n/);
  assert.match(md, /\nRequires-Dist: psycopg\[binary,pool\]==3\.2\.3; extra == 'deps'\n/);
  assert.match(md, /\nDescription-Content-Type: text\/markdown\n\n# Agent Check: Postgres\n/);

  const redis = await buildWheel(await copyExample(t, 'redisdb'), { sourceDateEpoch: 1580601600 });
  assert.equal(redis.tag, 'py2.py3-none-any');
  assert.equal(redis.requiresPython, undefined);
  assert.match(new TextDecoder().decode(redis.metadata), /^Metadata-Version: 2\.4\n/);

  const nginx = await buildWheel(await copyExample(t, 'nginx'), { sourceDateEpoch: 1580601600 });
  assert.equal(nginx.version, '8.1.0rc1', 'file names carry the normalised version');
  assert.match(new TextDecoder().decode(nginx.metadata), /\nVersion: 8\.1\.0-RC\.1\n/, 'METADATA keeps it as written, like hatchling');

  const base = await buildWheel(await copyExample(t, 'datadog_checks_base'), { sourceDateEpoch: 1580601600 });
  assert.ok(base.entries.includes('datadog_checks/__init__.py'));
  assert.ok(base.entries.includes('datadog_checks_base-37.1.0.dist-info/licenses/LICENSE'));
  assert.ok(!base.entries.some((e) => e.startsWith('tests/')));
});

test('times before 1980 are clamped to 1980-01-01 as hatchling clamps them; past 2107 is refused', async (t) => {
  const dir = await copyExample(t, 'postgres');
  const at1980 = await buildWheel(dir, { sourceDateEpoch: 315532800 });
  for (const early of [0, -5, 315532799]) assert.equal((await buildWheel(dir, { sourceDateEpoch: early })).sha256, at1980.sha256, String(early));
  assert.notEqual((await buildWheel(dir, { sourceDateEpoch: 315532802 })).sha256, at1980.sha256);
  assert.ok((await buildWheel(dir, { sourceDateEpoch: 4354819199 })).bytes.length > 0);
  for (const bad of [4354819200, 1.5, Number.NaN]) {
    await assert.rejects(buildWheel(dir, { sourceDateEpoch: bad }), (e: unknown) => isProvenantError(e) && e.code === 'E_SOURCE_DATE_EPOCH' && e.field === 'SOURCE_DATE_EPOCH', String(bad));
  }
});
