import path from 'node:path';
import type { Command } from 'commander';
import { parseReleaseSpec } from '../../app/approve.ts';
import { reattestReleases } from '../../app/reattest.ts';
import { ProvenantError } from '../../errors.ts';
import { closeAll, loadSigner } from '../../signers/key-store.ts';
import { openSigner } from '../../signers/open-signer.ts';
import type { Signer } from '../../signers/signer.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';
import { addRepositoryOptions, openRepository, type RepositoryFlags } from '../storage-options.ts';

const HELP = `
Re-attests published releases with a new attestation key (docs/attestation-keys.md): the SAME
signed statement (same wheel digest) is signed again with the new key, the new attestation is
published under a new name, and each release's pointer is replaced by one that differs only in its
attestation reference, through the publish protocol (one commit; a crash leaves the old state).
The wheel never changes, so hosts that installed a release before accept the re-attested one.

Only a statement a key of the policy signed (trusted, retired or revoked), about exactly the
pinned wheel and accepted by the provenance policy, is re-signed. The new key must be listed in the
policy and be neither retired nor revoked. --all takes every release \`repo status\` lists as
relying on a retired or revoked key.

Examples:
  provenant repo reattest --all --key attestation-2.pem
  provenant repo reattest datadog-postgres==23.2.0 --key awskms:///alias/provenant-attestation-2 --json
`;

export function registerReattest(repo: Command, ctx: Parameters<RegisterCommand>[1]): void {
  addRepositoryOptions(
    repo
      .command('reattest')
      .description('re-sign published releases\' statements with a new attestation key and publish them')
      .argument('[release...]', '<project>==<version> to re-attest')
      .option('--all', 'every release relying on a retired or revoked attestation key')
      .option('--key <ref>', 'the new attestation key: PEM file, pkcs11: or awskms:// (repeatable; default the key store\'s attestation key)', (v: string, prev: string[] = []) => [...prev, v])
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', HELP)
    .action(async (specs: string[], opts: RepositoryFlags & { all?: boolean; key?: string[] }, cmd: Command) => {
      const g = ctx.globals(cmd);
      if (Boolean(opts.all) === specs.length > 0) {
        throw new ProvenantError('E_USAGE', opts.all ? 'give either --all or releases, not both' : 'name the releases to re-attest (<project>==<version>) or pass --all', {
          exitClass: 'usage',
          field: 'release',
          hint: 'e.g. provenant repo reattest --all --key new-attestation.pem',
        });
      }
      const releases = opts.all ? 'all' : specs.map(parseReleaseSpec);
      const { storage, keysDir } = openRepository(ctx, opts);
      const source = keyStoreSignerSource(keysDir, ctx.env);
      const signers: Signer[] = [];
      try {
        for (const ref of opts.key ?? []) signers.push(await openSigner(ref, { env: ctx.env, cwd: ctx.cwd, field: '--key' }));
        if (signers.length === 0) signers.push(await loadSigner(path.resolve(ctx.cwd, opts.keys), 'attestation', ctx.env));
        const res = await reattestReleases(storage, source, { releases, attestationSigners: signers, reporter: ctx.reporter(cmd) });
        if (g.json) printJson(ctx.out, { ok: true, ...res });
        else ctx.out.stdout(res.releases.length > 0 ? `${res.releases.map((r) => `${r.project}==${r.version} ${r.attestation}`).join('\n')}\n` : 'nothing to re-attest\n');
      } finally {
        await closeAll(signers);
        await source.close?.();
      }
    });
}
