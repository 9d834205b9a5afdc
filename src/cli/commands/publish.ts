import type { Command } from 'commander';
import { publishReleases, type Release } from '../../app/publish.ts';
import { publishedTrustCheck } from '../../app/release-trust.ts';
import { readReleaseFromDist } from '../../app/publish-inputs.ts';
import { openWorkspace, selectIntegrations } from '../../app/workspace.ts';
import { PASSPHRASE_ENV } from '../../signers/key-store.ts';
import { RecordingStorage } from '../../storage/recording.ts';
import { keyStoreSignerSource } from '../../tuf/signer-source.ts';
import type { RegisterCommand } from '../context.ts';
import { addIntegrationsDirOption, type IntegrationsDirFlags } from '../integrations-option.ts';
import { printJson } from '../output.ts';
import { addRepositoryOptions, openRepository, type RepositoryFlags } from '../storage-options.ts';

const HELP = `
Publishes what \`build\` and \`sign\` left in each integration's dist/ into a TUF repository:
the wheel (simple/<project>/<wheel>) and its PEP 658 .metadata, the signed attestation, and
the pointer as a TUF target in its hashed bin. Only that bin, the snapshot and the timestamp
are re-signed (online key), whatever the repository's size; timestamp.json is replaced last,
by compare-and-swap, so a crash or a concurrent publisher never leaves a broken repository.
Then the simple index (PEP 503 HTML + PEP 691 JSON) is updated, then the status pages
(index.html, status/<project>.html; a failure there is only a warning, docs/status-page.md).

Releases are immutable: publishing the same bytes again changes nothing; different bytes under
a published version are refused (E_RELEASE_IMMUTABLE). Encrypted keys read their passphrase
from ${PASSPHRASE_ENV} or ${PASSPHRASE_ENV}_<NAME> (docs/keys.md).

Examples:
  provenant publish postgres redisdb
  provenant publish --all --repository /srv/repo --keys ~/provenant-keys
  provenant publish postgres --repository s3://my-bucket/integrations --json
  provenant publish --all --dry-run          # the plan only: no write request is made
`;

interface PublishFlags extends RepositoryFlags, IntegrationsDirFlags {
  all?: boolean;
  version?: string;
  dryRun?: boolean;
}

export const register: RegisterCommand = (program, ctx) => {
  addRepositoryOptions(
    addIntegrationsDirOption(program.command('publish'))
      .description('publish built and signed integrations into a TUF repository and its simple index')
      .argument('[integration...]', 'integration directory names or project names (e.g. postgres, datadog-postgres)')
      .option('--all', 'publish every integration under the root')
      .option('--version <version>', 'which built version to publish when dist/ holds several (default: the newest)')
      .option('--dry-run', 'run the whole protocol but keep every write in memory: print the plan (objects, sizes, content types), write nothing')
      .option('--json', 'print the result document on stdout'),
  )
    .addHelpText('after', HELP)
    .action(async (names: string[], opts: PublishFlags, cmd: Command) => {
      const g = ctx.globals(cmd);
      const reporter = ctx.reporter(cmd);
      const { storage, keysDir } = openRepository(ctx, opts);
      const ws = await openWorkspace({ root: opts.integrationsDir, cwd: ctx.cwd });
      const integrations = selectIntegrations(ws, names, Boolean(opts.all));
      const releases: Release[] = [];
      for (const i of integrations) releases.push(await readReleaseFromDist(i, opts.version));
      const recording = new RecordingStorage(storage, { dryRun: Boolean(opts.dryRun) });
      const signers = keyStoreSignerSource(keysDir, ctx.env);
      const check = publishedTrustCheck(storage, signers);
      for (const r of releases) await check(r.attestation.bytes, r.project, r.attestation.fileName);
      const res = await publishReleases(recording, signers, releases, reporter).finally(() => signers.close?.());
      if (g.json) printJson(ctx.out, { ok: true, dryRun: recording.dryRun, ...res, writes: recording.plan });
      else {
        for (const r of res.releases) ctx.out.stdout(`${opts.dryRun ? `would be ${r.status}` : r.status.padEnd(9)} ${r.project} ${r.version} → ${r.target}\n`);
        if (opts.dryRun) {
          ctx.out.stdout(`dry run: would write ${recording.plan.length} objects to ${storage.location}, wrote none:\n`);
          for (const w of recording.plan) ctx.out.stdout(`  ${w.kind.padEnd(7)} ${w.key} (${w.size} bytes, ${w.contentType}, ${w.cacheControl ?? 'no cache-control'})\n`);
        }
      }
    });
};
