import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { signIntegrations } from '../../app/sign.ts';
import { openWorkspace, selectIntegrations } from '../../app/workspace.ts';
import { ProvenantError } from '../../errors.ts';
import { keyObjectSigner, readPrivateKeyPem } from '../../signers/key-file.ts';
import { loadSigner, PASSPHRASE_ENV, passphraseEnvNames, passphraseFor } from '../../signers/key-store.ts';
import type { Signer } from '../../signers/signer.ts';
import type { RegisterCommand } from '../context.ts';
import { addIntegrationsDirOption, type IntegrationsDirFlags } from '../integrations-option.ts';
import { printJson } from '../output.ts';

const HELP = `
Signs what \`provenant build\` left in <integration>/dist/: the in-toto statement is wrapped,
byte for byte, in a DSSE envelope and signed into a Sigstore bundle v0.3,
<project>-<version>-attestation.sigstore.json, beside it; the pointer's attestation block is
rewritten to pin that bundle (uri, sha256, length). Bundle and pointer change together or not
at all. Signing again with the same key keeps a bundle that is still valid.

The key is the \`attestation\` key of the key store (made by \`provenant repo init\`), or the
PKCS#8 PEM file(s) given with --key (repeat it when the policy wants more than one signature).
Encrypted keys take their passphrase from ${PASSPHRASE_ENV} (or ${PASSPHRASE_ENV}_<NAME>).

Examples:
  provenant build postgres && provenant sign postgres
  provenant sign --all --keys ~/provenant-keys
  provenant sign redisdb --key attest-a.pem --key attest-b.pem --json
See docs/attestations.md for the bundle format and how to verify one by hand.
`;

interface SignOptions extends IntegrationsDirFlags {
  keys: string;
  /** Repeatable, so no commander default (help would print `(default: [])`). */
  key?: string[];
  all?: boolean;
  version?: string;
}

async function signerFromFile(file: string, env: NodeJS.ProcessEnv): Promise<Signer> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new ProvenantError('E_KEY_MISSING', `cannot read key file: ${(e as Error).message}`, {
      exitClass: 'input',
      file,
      field: '--key',
      hint: 'pass a PKCS#8 PEM private key file (ed25519 or ECDSA P-256)',
    });
  }
  const name = path.basename(file).replace(/\.pem$/, '');
  return keyObjectSigner(readPrivateKeyPem(pem, file, passphraseFor(name, env), `set ${passphraseEnvNames(name).join(' or ')} to the key's passphrase`));
}

export const register: RegisterCommand = (program, ctx) => {
  addIntegrationsDirOption(program.command('sign'))
    .description('sign built provenance (DSSE in a Sigstore bundle) and pin it in the pointer')
    .argument('[integration...]', 'integration directory names or project names (e.g. postgres, datadog-postgres)')
    .option('--all', 'sign every integration under the root')
    .option('--keys <dir>', 'key store holding the `attestation` key', 'keys')
    .option('--key <file>', 'PKCS#8 PEM private key to sign with instead of the key store (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--version <version>', 'which built version to sign when dist/ holds several (default: the newest)')
    .option('--json', 'print the result document on stdout')
    .addHelpText('after', HELP)
    .action(async (names: string[], opts: SignOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      const reporter = ctx.reporter(cmd);
      const ws = await openWorkspace({ root: opts.integrationsDir, cwd: ctx.cwd });
      const integrations = selectIntegrations(ws, names, Boolean(opts.all));
      const keyFiles = opts.key ?? [];
      const signers =
        keyFiles.length > 0
          ? await Promise.all(keyFiles.map((f) => signerFromFile(path.resolve(ctx.cwd, f), ctx.env)))
          : [await loadSigner(path.resolve(ctx.cwd, opts.keys), 'attestation', ctx.env)];
      const results = await signIntegrations(integrations, { signers, version: opts.version, reporter });
      if (g.json) printJson(ctx.out, { ok: true, results });
      else for (const r of results) ctx.out.stdout(`${r.bundle.path}\n`);
    });
};
