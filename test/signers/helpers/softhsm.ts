import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../../helpers/peers.ts';

const run = promisify(execFile);

/**
 * Real SoftHSM2 tokens, one configuration (and token directory) per test: scripts/peers.d/
 * softhsm.sh installs softhsm2 and OpenSC's pkcs11-tool, which makes the keys on the token
 * (generated there, never imported). Missing tools fail the test with the install command.
 */
const MODULE_CANDIDATES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'];

export function softhsmModule(): string {
  const found = MODULE_CANDIDATES.find((m) => existsSync(m));
  if (!found) throw new Error(`SoftHSM2 module missing (looked in ${MODULE_CANDIDATES.join(', ')}): run \`bash scripts/peers.d/softhsm.sh\``);
  return found;
}

export type TokenKeyType = 'EC:prime256v1' | 'EC:secp384r1' | 'EC:edwards25519' | 'rsa:2048';

export interface SoftHsm {
  dir: string;
  /** SOFTHSM2_CONF for this test's tokens; the module reads it from the process environment. */
  conf: string;
  module: string;
  /** Initialises a token in a free slot. */
  initToken(label: string, pin: string): Promise<void>;
  /** Generates a key pair on the token (CKA_ID `id`, hex; CKA_LABEL `label`). */
  generate(token: string, pin: string, type: TokenKeyType, id: string, label: string): Promise<void>;
  /** Deletes both halves of the key pair with CKA_ID `id`. */
  destroy(token: string, pin: string, id: string): Promise<void>;
  /** `pkcs11:token=…;object=…?module-path=…` plus extra query attributes. */
  uri(token: string, object: string, query?: string): string;
}

export async function softHsm(t: { after(fn: () => unknown): void }): Promise<SoftHsm> {
  const module = softhsmModule();
  const dir = await tempDir(t, 'provenant-softhsm-');
  const conf = path.join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const tool = async (file: string, args: string[]) => {
    try {
      return await run(file, args, { env });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${file} missing: run \`bash scripts/peers.d/softhsm.sh\``);
      throw e;
    }
  };
  return {
    dir,
    conf,
    module,
    async initToken(label, pin) {
      await tool('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', '87654321', '--pin', pin]);
    },
    async generate(token, pin, type, id, label) {
      await tool('pkcs11-tool', ['--module', module, '--token-label', token, '--login', '--pin', pin, '--keypairgen', '--key-type', type, '--id', id, '--label', label]);
    },
    async destroy(token, pin, id) {
      for (const type of ['privkey', 'pubkey']) {
        await tool('pkcs11-tool', ['--module', module, '--token-label', token, '--login', '--pin', pin, '--delete-object', '--type', type, '--id', id]);
      }
    },
    uri(token, object, query = '') {
      return `pkcs11:token=${encodeURIComponent(token)};object=${encodeURIComponent(object)}?module-path=${module}${query ? `&${query}` : ''}`;
    },
  };
}

/**
 * Points this process's PKCS#11 module at `hsm` for the rest of the test. The module reads
 * SOFTHSM2_CONF when it is initialised, which provenant does when the first key is opened and
 * undoes when the last is closed, so each test sees only its own tokens.
 */
export function useSoftHsm(t: { after(fn: () => unknown): void }, hsm: SoftHsm): void {
  const before = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = hsm.conf;
  t.after(() => {
    if (before === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = before;
  });
}
