import path from 'node:path';
import { Option } from 'commander';
import { buildIntegrations, normalizeBaseUrl, sourceDateEpochFrom } from '../../app/build.ts';
import { openWorkspace, selectIntegrations, type Workspace } from '../../app/workspace.ts';
import { wheelPool, workersFor } from '../../wheel/wheel-pool.ts';
import { treeGit } from '../../provenance/git.ts';
import { PROVENANCE_FORMATS, type ProvenanceFormat } from '../../provenance/statement.ts';
import type { RegisterCommand } from '../context.ts';
import { addIntegrationsDirOption, addJobsOption, type IntegrationsDirFlags, type JobsFlags } from '../integrations-option.ts';
import { printJson } from '../output.ts';

const HELP = `
For each integration, builds a reproducible wheel and writes three files into <integration>/dist/:
  datadog_<name>-<version>-<tag>.whl           the wheel (same bytes as hatchling's)
  datadog-<name>-<version>-attestation.json    in-toto statement with SLSA provenance (unsigned)
  datadog-<name>-<version>.pointer             YAML pinning the wheel and the statement by sha256 and length
All three are replaced together or not at all.

Integrations are the subdirectories holding a pyproject.toml of --integrations-dir; without it,
of the current directory if it has any, else the examples bundled with provenant. Name them by directory
(postgres, datadog_checks_base) or project (datadog-postgres).

Examples:
  provenant build --all                                  every integration here (or the bundled examples)
  provenant build postgres redisdb --integrations-dir ~/integrations-core
  provenant build postgres --json | jq -r '.results[0].wheel.path'
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) provenant build postgres
  provenant build --all --jobs 1                         one integration at a time, in this thread
  provenant build postgres --base-url https://packages.example.com/integrations
  provenant build postgres --provenance slsa-v0.2        the reference guide's statement format

Environment:
  SOURCE_DATE_EPOCH    timestamp of every file in the wheel (default 1580601600, as hatchling)
  PROVENANT_BASE_URL   default for --base-url
  GITHUB_ACTIONS=true  provenance takes builder, source and run from the GITHUB_* variables;
                       elsewhere it records a local build and the source from git
`;

interface BuildCliOptions extends IntegrationsDirFlags, JobsFlags {
  all?: boolean;
  baseUrl?: string;
  provenance: ProvenanceFormat;
}

export const register: RegisterCommand = (program, ctx) => {
  addJobsOption(addIntegrationsDirOption(program.command('build')))
    .description('build integration wheels with their pointer and SLSA provenance into <integration>/dist/')
    .argument('[integrations...]', 'integration directory or project names')
    .option('--all', 'build every integration under the root')
    .option('--base-url <url>', 'public base URL of the repository for pointer URIs (default: $PROVENANT_BASE_URL, else URIs relative to the repository root)')
    .addOption(new Option('--provenance <format>', 'statement format').choices(PROVENANCE_FORMATS).default('slsa-v1'))
    .option('--json', 'print the results as JSON on stdout')
    .addHelpText('after', HELP)
    .action(async (names: string[], opts: BuildCliOptions, cmd) => {
      const g = ctx.globals(cmd);
      const reporter = ctx.reporter(cmd);
      // Validate cheap inputs before touching anything.
      const fromOption = opts.baseUrl !== undefined;
      const baseUrl = normalizeBaseUrl(fromOption ? opts.baseUrl : ctx.env.PROVENANT_BASE_URL, fromOption ? '--base-url' : 'PROVENANT_BASE_URL');
      const sourceDateEpoch = sourceDateEpochFrom(ctx.env);
      const ws = await openWorkspace({ root: opts.integrationsDir, cwd: ctx.cwd });
      const selected = selectIntegrations(ws, names, Boolean(opts.all));
      reporter.info(describeRoot(ws, ctx.cwd, selected.length));

      const pool = wheelPool(workersFor(selected.length, opts.jobs));
      const results = await buildIntegrations(selected, { env: ctx.env, baseUrl, format: opts.provenance, buildWheel: pool.build, git: treeGit(ws.root), reporter, jobs: opts.jobs }).finally(() => pool.close());

      if (g.json) {
        printJson(ctx.out, { ok: true, root: ws.root, rootOrigin: ws.origin, format: opts.provenance, sourceDateEpoch, baseUrl, results });
        return;
      }
      // stdout carries the wheel paths, one per line, for scripts that do not want JSON.
      for (const r of results) ctx.out.stdout(`${shown(r.wheel.path, ctx.cwd)}\n`);
    });
};

function shown(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function describeRoot(ws: Workspace, cwd: string, count: number): string {
  const what = `${count} integration${count === 1 ? '' : 's'}`;
  const where = shown(ws.root, cwd);
  if (ws.origin === 'bundled') return `Building ${what} from the bundled examples in ${where} (use --integrations-dir DIR or run inside your integrations checkout for your own)`;
  return `Building ${what} from ${where}`;
}
