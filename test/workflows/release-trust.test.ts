import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishedTrustCheck } from '../../src/app/release-trust.ts';
import { publishTrustTargets } from '../../src/app/trust-targets.ts';
import { isProvenantError } from '../../src/errors.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { defaultPolicy, renderPolicy } from '../../src/policy/policy.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { keylessSign, otherStatementBytes, releaseIdentity, RUN } from '../keyless/helpers/keyless.ts';
import { startSigstore } from '../keyless/helpers/sigstore.ts';

/**
 * The check `release --keyless` makes before publishing: the new attestation against the policy
 * and Sigstore trusted root the repository distributes through TUF (read from the key store's
 * root). Fail closed: another identity, a policy without identities, a tampered policy object.
 */
async function refusedWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isProvenantError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    assert.ok(e.hint);
    return true;
  });
}

test('release --keyless: the published policy decides before publishing; another identity, no identities, or a tampered policy is refused', async (t) => {
  const s = await startSigstore(t);
  const fx = await repoFixture(t);
  const statement = await otherStatementBytes();
  const bundle = await keylessSign(s)(statement);
  const evil = await keylessSign(s, { ...RUN, workflowRef: 'org/repo/.github/workflows/other.yml@refs/heads/main' })(statement);

  // The repository as `repo init` makes it: keyed policy, no identities.
  await refusedWith(publishedTrustCheck(fx.storage, fx.signers)(bundle, 'datadog-postgres', 'b.json'), 'E_RELEASE_IDENTITY_REFUSED');

  const policy = renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation], identities: [releaseIdentity(s)] }));
  await publishTrustTargets(fx.storage, fx.signers, undefined, { policy, sigstoreTrustedRoot: s.trustedRootBytes });
  const check = publishedTrustCheck(fx.storage, fx.signers);
  await check(bundle, 'datadog-postgres', 'b.json');
  await refusedWith(check(evil, 'datadog-postgres', 'b.json'), 'E_RELEASE_IDENTITY_REFUSED', /E_ATTESTATION_SAN/);

  // A bucket writer swaps the policy object: the targets metadata's digest catches it.
  const dir = path.join(fx.repoDir, 'policy');
  const file = (await readdir(dir)).find((f) => f === `${sha256Hex(policy)}.attestation-policy.json`);
  assert.ok(file, 'the published policy object');
  await writeFile(path.join(dir, file), renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation], identities: [releaseIdentity(s, { subject: '*' })] })));
  await refusedWith(publishedTrustCheck(fx.storage, fx.signers)(evil, 'datadog-postgres', 'b.json'), 'E_TARGET_DIGEST');
});
