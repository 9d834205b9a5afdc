import path from 'node:path';
import type { Command } from 'commander';
import { signIntegrations } from '../../app/sign.ts';
import { openWorkspace, selectIntegrations } from '../../app/workspace.ts';
import { closeAll, loadSigner, PASSPHRASE_ENV } from '../../signers/key-store.ts';
import { KEYLESS_ENV, keylessSigning, useKeyless } from '../../signers/keyless.ts';
import { openSigner } from '../../signers/open-signer.ts';
import type { Signer } from '../../signers/signer.ts';
import type { RegisterCommand } from '../context.ts';
import { addKeylessOptions, type KeylessOptionFlags } from '../keyless-options.ts';
import { addIntegrationsDirOption, type IntegrationsDirFlags } from '../integrations-option.ts';
import { printJson } from '../output.ts';
import { addStorageOptions, openRepository, type StorageFlags } from '../storage-options.ts';
import { readPublishedTrust } from '../../app/release-trust.ts';
import { checkKeysMayAttest } from '../../policy/attestation-keys.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';

const HELP = `
Signs what \`provenant build\` left in <integration>/dist/: the in-toto statement is wrapped,
byte for byte, in a DSSE envelope and signed into a Sigstore bundle v0.3,
<project>-<version>-attestation.sigstore.json, beside it; the pointer's attestation block is
rewritten to pin that bundle (uri, sha256, length). Bundle and pointer change together or not
at all. Signing again with the same key keeps a bundle that is still valid.

The key is the \`attestation\` key of the key store (made by \`provenant repo init\`), or the
key(s) given with --key (repeat it when the policy wants more than one signature): a PKCS#8
PEM file, a pkcs11: URI or an awskms:// reference (docs/keys.md). Encrypted PEM keys take their
passphrase from ${PASSPHRASE_ENV} (or ${PASSPHRASE_ENV}_<NAME>).

--keyless signs with Sigstore instead: an ephemeral key, a Fulcio certificate for the identity in
an OIDC token (--identity-token FILE, else SIGSTORE_ID_TOKEN, else GitHub Actions' token with
\`permissions: id-token: write\`), the signature logged in Rekor and, with --tsa-url, timestamped.
Inside GitHub Actions with an OIDC token available it is the default unless a key is given.
Services: --fulcio-url/${KEYLESS_ENV.fulcioUrl}, --rekor-url/${KEYLESS_ENV.rekorUrl},
--tsa-url/${KEYLESS_ENV.tsaUrl}; default Sigstore's public-good instance, no TSA.

Examples:
  provenant build postgres && provenant sign postgres
  provenant sign --all --keys ~/provenant-keys
  provenant sign redisdb --key attest-a.pem --key attest-b.pem --json
  provenant sign --all --key awskms:///alias/provenant-attestation
  provenant sign postgres --key attestation-2.pem --repository ./repository   # refuses a retired or revoked key
  provenant sign postgres --keyless --identity-token token.jwt --fulcio-url https://fulcio.internal
See docs/attestations.md for the bundle format and how to verify one by hand.
`;

interface SignOptions extends IntegrationsDirFlags, KeylessOptionFlags, StorageFlags {
  repository?: string;
  keys: string;
  /** Repeatable, so no commander default (help would print `(default: [])`). */
  key?: string[];
  all?: boolean;
  version?: string;
}

export const register: RegisterCommand = (program, ctx) => {
  addStorageOptions(addKeylessOptions(addIntegrationsDirOption(program.command('sign'))))
    .description('sign built provenance (DSSE in a Sigstore bundle) and pin it in the pointer')
    .argument('[integration...]', 'integration directory names or project names (e.g. postgres, datadog-postgres)')
    .option('--all', 'sign every integration under the root')
    .option('--keys <dir>', 'key store holding the `attestation` key', 'keys')
    .option('--key <ref>', 'key to sign with instead of the key store: PEM file, pkcs11: or awskms:// (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--version <version>', 'which built version to sign when dist/ holds several (default: the newest)')
    .option('--repository <dir>', "refuse a key the repository's published policy retires or revokes (read through TUF from the key store's root.json)")
    .option('--json', 'print the result document on stdout')
    .addHelpText('after', HELP)
    .action(async (names: string[], opts: SignOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      const reporter = ctx.reporter(cmd);
      const ws = await openWorkspace({ root: opts.integrationsDir, cwd: ctx.cwd });
      const integrations = selectIntegrations(ws, names, Boolean(opts.all));
      const keyRefs = opts.key ?? [];
      const keyGiven = keyRefs.length > 0 || cmd.getOptionValueSource('keys') !== 'default';
      const keyless = useKeyless({ keyless: opts.keyless, keyGiven, env: ctx.env })
        ? keylessSigning({ ...opts, identityToken: opts.identityToken && path.resolve(ctx.cwd, opts.identityToken) }, ctx.env)
        : undefined;
      let results: Awaited<ReturnType<typeof signIntegrations>>;
      const signers: Signer[] = [];
      try {
        if (!keyless && keyRefs.length === 0) signers.push(await loadSigner(path.resolve(ctx.cwd, opts.keys), 'attestation', ctx.env));
        if (!keyless) for (const ref of keyRefs) signers.push(await openSigner(ref, { env: ctx.env, cwd: ctx.cwd, field: '--key' }));
        if (opts.repository !== undefined && signers.length > 0) await checkSignersMayAttest(ctx, opts, signers);
        results = await signIntegrations(integrations, { signers, keyless, version: opts.version, reporter });
      } finally {
        await closeAll(signers);
      }
      if (g.json) printJson(ctx.out, { ok: true, results });
      else for (const r of results) ctx.out.stdout(`${r.bundle.path}\n`);
    });
};

/** With --repository: the keys must be ones the published policy lets attest new releases (docs/attestation-keys.md). */
async function checkSignersMayAttest(ctx: { cwd: string; env: NodeJS.ProcessEnv }, opts: SignOptions, signers: readonly Signer[]): Promise<void> {
  const { storage, keysDir } = openRepository(ctx, { ...opts, repository: opts.repository!, keys: opts.keys });
  const source = keyStoreSignerSource(keysDir, ctx.env);
  try {
    const { policy } = await readPublishedTrust(storage, source);
    checkKeysMayAttest(policy, signers.map((s) => s.keyId), '--key');
  } finally {
    await source.close?.();
  }
}
