import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';
import { REPO_ROOT } from '../helpers/peers.ts';
import { softHsm, type SoftHsm, type TokenKeyType } from '../signers/helpers/softhsm.ts';
import { hosts, ok, refused, release, repoFlags } from './helpers.ts';

const run = promisify(execFile);

interface Holder {
  name: string;
  hsm: SoftHsm;
  pin: string;
  ref: string;
  /** `provenant <args>` in this holder's own process, with only this holder's token directory. */
  cli(...args: string[]): Promise<{ code: number; out: string; err: string }>;
}

async function holder(t: Parameters<typeof softHsm>[0], fx: RepoFixture, name: string, type: TokenKeyType): Promise<Holder> {
  const hsm = await softHsm(t);
  const pin = `${name}-pin-1234`;
  await hsm.initToken(name, pin);
  await hsm.generate(name, pin, type, '01', 'root');
  const env = { PATH: process.env.PATH, SOFTHSM2_CONF: hsm.conf, PROVENANT_PKCS11_PIN: pin };
  return {
    name,
    hsm,
    pin,
    ref: hsm.uri(name, 'root'),
    async cli(...args) {
      try {
        const r = await run(path.join(REPO_ROOT, 'node_modules/.bin/node'), [path.join(REPO_ROOT, 'bin/provenant.js'), ...args], { cwd: fx.dir, env, maxBuffer: 16 << 20 });
        return { code: 0, out: r.stdout, err: r.stderr };
      } catch (e) {
        const x = e as { code?: number; stdout?: string; stderr?: string };
        return { code: x.code ?? 1, out: x.stdout ?? '', err: x.stderr ?? '' };
      }
    },
  };
}

test('root ceremony with three holders, each key on its own SoftHSM token directory and each signing in its own process: threshold 2 of 3, published, hosts verify; then a lost key replaced by the two others; a wrong PIN signs nothing', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const holders = [await holder(t, fx, 'alice', 'EC:prime256v1'), await holder(t, fx, 'bob', 'EC:edwards25519'), await holder(t, fx, 'carol', 'EC:secp384r1')];
  await release(fx, 'datadog-postgres', '1.0.0');

  // Each holder sends the proposer a public key; nothing private leaves a token.
  for (const h of holders) {
    const r = await h.cli('repo', 'key', 'show', '--key', h.ref, '--json');
    assert.equal(r.code, 0, r.err);
    await writeFile(path.join(fx.dir, `${h.name}.pub.json`), r.out);
  }
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--remove-key', 'root', ...holders.flatMap((h) => ['--add-key', `${h.name}.pub.json`]), '--threshold', '2');
  const p2 = path.join(fx.dir, 'proposals/root-v2.json');
  const summary = (JSON.parse(await readFile(p2, 'utf8')) as { summary: string[] }).summary;
  for (const h of holders) assert.ok(summary.some((s) => s.endsWith(`(${h.name})`) && s.startsWith('root role: key added')), summary.join('\n'));

  // A wrong PIN: refused by the token, the proposal untouched.
  const before = await readFile(p2);
  const wrong = await holders[2]!.cli('repo', 'root', 'sign', 'proposals/root-v2.json', '--key', `${holders[2]!.ref}&pin-value=0000`, '--yes', '--repository', fx.repoDir);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.err, /provenant: E_PKCS11_PIN:/);
  assert.deepEqual(await readFile(p2), before);

  // The current root's key (the one `repo init` made) and two of the three new holders.
  await ok(fx, 'repo', 'root', 'sign', p2, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  const a = await holders[0]!.cli('repo', 'root', 'sign', 'proposals/root-v2.json', '--key', holders[0]!.ref, '--yes', '--repository', fx.repoDir);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /more signatures needed/);
  await refused(fx, 'E_PROPOSAL_UNSIGNED', 'repo', 'root', 'publish', p2, ...flags);
  const b = await holders[1]!.cli('repo', 'root', 'sign', 'proposals/root-v2.json', '--key', holders[1]!.ref, '--yes', '--repository', fx.repoDir);
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /every threshold is met/);
  await ok(fx, 'repo', 'root', 'publish', p2, ...flags);

  const h = hosts(fx, () => fx.repoDir);
  await release(fx, 'datadog-postgres', '1.1.0');
  await h.provenant('datadog-postgres', '1.1.0');

  // Carol's token is lost: alice and bob replace it with dave's (threshold 2 of the old root and of the new).
  const dave = await holder(t, fx, 'dave', 'EC:prime256v1');
  const d = await dave.cli('repo', 'key', 'show', '--key', dave.ref, '--json');
  await writeFile(path.join(fx.dir, 'dave.pub.json'), d.out);
  // Carol's key by its key id (a unique prefix will do), as her public key file or `repo status --json` shows it.
  const carol = (JSON.parse(await readFile(path.join(fx.dir, 'carol.pub.json'), 'utf8')) as { keyid: string }).keyid;
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--remove-key', carol.slice(0, 16), '--add-key', 'dave.pub.json');
  for (const x of holders.slice(0, 2)) {
    const r = await x.cli('repo', 'root', 'sign', 'proposals/root-v3.json', '--key', x.ref, '--yes', '--repository', fx.repoDir);
    assert.equal(r.code, 0, r.err);
  }
  await ok(fx, 'repo', 'root', 'publish', path.join(fx.dir, 'proposals/root-v3.json'), ...flags);
  await release(fx, 'datadog-postgres', '1.2.0');
  await h.provenant('datadog-postgres', '1.2.0');
  const r3 = JSON.parse(await readFile(path.join(fx.repoDir, 'metadata/3.root.json'), 'utf8')) as { signed: { roles: { root: { keyids: string[]; threshold: number } } } };
  assert.equal(r3.signed.roles.root.keyids.length, 3);
  assert.equal(r3.signed.roles.root.threshold, 2);
});
