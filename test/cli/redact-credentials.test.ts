import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { redactCredentials } from '../../src/util/redact-credentials.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { downloadCli } from '../download/helpers/run.ts';

test('redactCredentials hides the whole userinfo of every URL, and nothing else', () => {
  const cases: [string, string][] = [
    ['https://user:s3cret@repo.example/simple/', 'https://***@repo.example/simple/'],
    ['fetching http://ghp_TOKEN@127.0.0.1:8/x and s3://AKIA:key@bucket/p', 'fetching http://***@127.0.0.1:8/x and s3://***@bucket/p'],
    ['"repository": "https://u:p@h/r"', '"repository": "https://***@h/r"'],
    ['mail me at ops@example.com about https://repo.example/a@b', 'mail me at ops@example.com about https://repo.example/a@b'],
    ['pkcs11:token=a;object=b?module-path=/usr/lib/x.so', 'pkcs11:token=a;object=b?module-path=/usr/lib/x.so'],
  ];
  for (const [text, want] of cases) assert.equal(redactCredentials(text), want, text);
  const e = new ProvenantError('E_X', 'cannot reach https://u:pw@h/r', { file: 'https://u:pw@h/r/metadata/1.root.json', hint: 'check https://u:pw@h/r' });
  assert.doesNotMatch(JSON.stringify(e.toJSON()) + e.describe(), /pw/);
});

test('a repository URL with credentials never shows them: not in the error, not at -vv, not in --json', async (t) => {
  const fx = await repoFixture(t);
  // A port that accepts and closes at once: a network error whose message names the URL.
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const url = `http://mirror-user:TOPSECRET-42@127.0.0.1:${port}/repo`;
  for (const extra of [[], ['-vv'], ['--json']]) {
    const r = await downloadCli(fx, ['datadog-postgres', '--repository', url, ...extra]);
    assert.notEqual(r.code, 0);
    assert.match(r.err + r.out, /127\.0\.0\.1/, 'the host is still named');
    assert.doesNotMatch(r.err + r.out, /TOPSECRET|mirror-user/, `${extra.join(' ')}: ${r.err}${r.out}`);
  }
});
