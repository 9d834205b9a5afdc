import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DEADLINE_MS, downloadWheel } from '../../app/download.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';
import { addStorageOptions, storageOptionsFrom, type StorageFlags } from '../storage-flags.ts';

const HELP = `
Fetches a wheel from a provenant repository and verifies it before it reaches --dest: TUF
metadata (from a root.json you trust, never from the network), the pointer, the wheel's
length and sha256, the attestation's digest and signature (keys from the repository's
TUF-signed policy only), the statement's types and subject, and the provenance policy.
The absolute path of the verified wheel is the only line on stdout.

Trusted metadata is kept per repository in the state directory ($XDG_STATE_HOME/provenant,
~/.local/state/provenant, or --state-dir / PROVENANT_STATE_DIR) so rollbacks and freezes are
caught on later runs. --root is needed the first time only: give it the key store's root.json
(keys/root.json, written by \`provenant repo init\`), copied to the host out of band. Given
later, it must be a root that state has trusted (else E_TUF_ROOT_CONFLICT). After a repository
was re-created with new keys: provenant state forget <repository>, then download with its new --root.

Exit codes: 0 ok, 2 usage, 3 bad input, 4 not found (project, version), 5 verification failed,
6 network (docs/exit-codes.md).

Examples:
  provenant download datadog-postgres --repository ./repository --root ./keys/root.json
  provenant download datadog-postgres --version 23.2.0 --repository https://packages.example.com/integrations/
  pip install "$(provenant download datadog-postgres --repository ./repository --dest ./wheels)"
  provenant download datadog-redisdb --pre -vv --json --repository http://127.0.0.1:8000/
  provenant download datadog-postgres --repository s3://my-bucket/integrations --region eu-north-1
`;

interface DownloadOpts extends StorageFlags {
  version?: string;
  pre?: boolean;
  repository: string;
  root?: string;
  dest?: string;
  stateDir?: string;
  caFile?: string;
  timeout: number;
  deadline: number;
  retries: number;
  unsafeDisableVerification?: boolean;
}

export const register: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('download')
    .description('download a wheel and verify it (TUF, digests, signed provenance, policy); prints its path')
    .argument('<project>', 'project name, e.g. datadog-postgres')
    .option('--version <version>', 'exact version (PEP 440); default the newest release')
    .option('--pre', 'allow pre-releases when picking the newest version')
    .option('--repository <url|dir>', 'repository root: http(s) URL, s3://bucket/prefix or local directory (env PROVENANT_REPOSITORY)', ctx.env.PROVENANT_REPOSITORY || 'repository')
    .option('--root <file>', 'root.json to trust on first use of this repository: the publisher key store\'s keys/root.json (env PROVENANT_ROOT)')
    .option('--dest <dir>', 'where to put the verified wheel (default: a new directory under the system temp dir)')
    .option('--state-dir <dir>', 'where trusted metadata is kept (env PROVENANT_STATE_DIR)')
    .option('--ca-file <pem>', 'extra CA certificates for https (env PROVENANT_CA_BUNDLE)')
    .addOption(new Option('--timeout <seconds>', 'connect and read timeout').default(30).argParser(positiveNumber('--timeout')))
    .addOption(new Option('--deadline <seconds>', 'time allowed for the whole download').default(DEFAULT_DEADLINE_MS / 1000).argParser(positiveNumber('--deadline')))
    .addOption(new Option('--retries <n>', 'retries on 5xx, 429 and connection errors').default(3).argParser(count('--retries')))
    .option('--unsafe-disable-verification', 'BREAK GLASS: skip attestation and provenance checks (needs --version; refused unless the policy allows it)')
    .option('--json', 'print the result document on stdout instead of the path');
  addStorageOptions(cmd)
    .addHelpText('after', HELP)
    .action(async (project: string, opts: DownloadOpts, cmd) => {
      const g = ctx.globals(cmd);
      const reporter = ctx.reporter(cmd);
      const result = await downloadWheel({
        project,
        version: opts.version,
        pre: Boolean(opts.pre),
        repository: opts.repository,
        root: opts.root,
        dest: opts.dest,
        stateDir: opts.stateDir,
        net: {
          ...(opts.caFile ? { caFile: opts.caFile } : {}),
          connectTimeoutMs: opts.timeout * 1000,
          idleTimeoutMs: opts.timeout * 1000,
          retry: { retries: opts.retries, baseDelayMs: 200, maxDelayMs: 5000 },
        },
        deadlineMs: opts.deadline * 1000,
        unsafeDisableVerification: Boolean(opts.unsafeDisableVerification),
        s3: s3Options(opts, ctx),
        env: ctx.env,
        cwd: ctx.cwd,
        reporter,
      });
      if (g.json) printJson(ctx.out, result);
      else ctx.out.stdout(`${result.path}\n`);
    });
};

/** S3 settings as the other commands read them: flags first, then the AWS environment variables. */
export function s3Options(flags: StorageFlags, ctx: { cwd: string; env: NodeJS.ProcessEnv }) {
  const o = storageOptionsFrom(flags, ctx);
  const env = ctx.env;
  const region = o.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const endpointUrl = o.endpointUrl ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  return { ...(region ? { region } : {}), ...(endpointUrl ? { endpointUrl } : {}), ...(o.forcePathStyle !== undefined ? { forcePathStyle: o.forcePathStyle } : {}) };
}

function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number of seconds`);
    return n;
  };
}

function count(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number`);
    return Number(value);
  };
}
