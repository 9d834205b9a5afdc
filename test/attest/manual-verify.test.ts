import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { signAttestation } from '../../src/attest/sign.ts';
import { toBase64 } from '../../src/formats/dsse.ts';
import { defaultPolicy, renderPolicy } from '../../src/policy/policy.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';
import { testSigner } from './keys.ts';

const run = promisify(execFile);

/** The shell recipe of docs/attestations.md, exactly as published (jq, xxd, openssl). */
async function recipe(): Promise<string> {
  const doc = await readFile(path.join(REPO_ROOT, 'docs/attestations.md'), 'utf8');
  const m = /<!-- verify-by-hand[^>]*-->\n```sh\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, 'docs/attestations.md lost its verify-by-hand block');
  return m[1]!;
}

const STATEMENT = new TextEncoder().encode('{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "é.whl"}]}\n');

for (const type of ['ed25519', 'ecdsa'] as const) {
  test(`${type}: the documented openssl recipe verifies a bundle, and rejects a tampered one`, async (t) => {
    const dir = await tempDir(t);
    const signer = testSigner(type);
    const { bytes } = await signAttestation(STATEMENT, [signer]);
    await writeFile(path.join(dir, 'attestation-policy.json'), renderPolicy(defaultPolicy({ attestationKeys: [signer] })));
    const bundleFile = path.join(dir, 'datadog-postgres-23.2.0-attestation.sigstore.json');
    await writeFile(bundleFile, bytes);
    const script = await recipe();
    const ok = await run('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir });
    assert.match(ok.stdout, /Verified OK|Signature Verified Successfully/);
    assert.deepEqual(await readFile(path.join(dir, 'statement.json')), Buffer.from(STATEMENT));

    const tampered = JSON.parse(new TextDecoder().decode(bytes));
    tampered.dsseEnvelope.payload = toBase64(new TextEncoder().encode('{"_type": "evil"}\n'));
    await writeFile(bundleFile, JSON.stringify(tampered));
    await assert.rejects(run('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir }), (e: { code?: number; stdout?: string }) => e.code !== 0 && !/Verified OK|Signature Verified Successfully/.test(e.stdout ?? ''));
  });
}
