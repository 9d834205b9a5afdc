import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * Runs one job of a workflow file the way a GitHub-hosted runner does, as far as a test can: its
 * `run:` steps in order, each with `bash --noprofile --norc -eo pipefail` (what `shell: bash`
 * means), the workflow's, job's and step's `env:` with their `${{ }}` expressions evaluated,
 * GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STEP_SUMMARY files, and `if:` conditions. `uses:` steps are
 * not run: the caller's `actions` map simulates their effect, and an action it does not know fails
 * the run (so a new action in the workflow cannot slip past the test). Expressions other than the
 * few forms below also fail, rather than evaluating to something made up.
 */
export interface WorkflowRun {
  inputs?: Record<string, string | boolean>;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** GITHUB_* context: repository, ref, sha, event name, run id, ... */
  github: { repository: string; ref: string; refName: string; refType: 'branch' | 'tag'; sha: string; eventName: string; runId: string; workflowRef: string };
  /** The process environment a fresh runner has (PATH, HOME, ...), plus anything the test serves (OIDC endpoint). */
  env: Record<string, string | undefined>;
  cwd: string;
  /** Simulated actions by name (`owner/repo`, no ref): they may change the environment. */
  actions: Record<string, (step: { with: Record<string, string>; env: Record<string, string | undefined> }) => void | Promise<void>>;
  /** `run:` scripts not to run, with the reason (e.g. `npm ci`, already done for the checkout). */
  skip?: (script: string) => string | undefined;
  /** Stop after the step with this id (a test of the first steps only). */
  until?: string;
}

export interface StepResult {
  name: string;
  kind: 'run' | 'uses';
  outcome: 'success' | 'failure' | 'skipped';
  stdout: string;
  stderr: string;
  reason?: string;
}

export interface JobResult {
  steps: StepResult[];
  /** Each step's GITHUB_OUTPUT values, by step id. */
  outputs: Record<string, Record<string, string>>;
  summary: string;
  runnerTemp: string;
}

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string | number | boolean>;
}

export async function runJob(workflowFile: string, job: string, r: WorkflowRun): Promise<JobResult> {
  const wf = parse(await readFile(workflowFile, 'utf8')) as { env?: Record<string, string>; jobs: Record<string, { env?: Record<string, string>; steps: Step[] }> };
  const j = wf.jobs[job];
  if (!j) throw new Error(`${workflowFile} has no job ${job}`);
  const runnerTemp = await mkdtemp(path.join(r.env.TMPDIR ?? '/tmp', 'runner-temp-'));
  const files = { summary: path.join(runnerTemp, '_summary.md'), output: path.join(runnerTemp, '_output'), env: path.join(runnerTemp, '_env') };
  await writeFile(files.summary, '');
  const outputs: Record<string, Record<string, string>> = {};
  const ctx = { runnerTemp, outputs };
  let env: Record<string, string | undefined> = {
    ...r.env,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: r.github.repository,
    GITHUB_REF: r.github.ref,
    GITHUB_REF_NAME: r.github.refName,
    GITHUB_REF_TYPE: r.github.refType,
    GITHUB_SHA: r.github.sha,
    GITHUB_EVENT_NAME: r.github.eventName,
    GITHUB_RUN_ID: r.github.runId,
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW_REF: r.github.workflowRef,
    GITHUB_WORKSPACE: r.cwd,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: runnerTemp,
  };
  const evalEnv = (e: Record<string, string> | undefined) => Object.fromEntries(Object.entries(e ?? {}).map(([k, v]) => [k, substitute(String(v), r, ctx)]));
  env = { ...env, ...evalEnv(wf.env), ...evalEnv(j.env) };

  const results: StepResult[] = [];
  let failed = false;
  for (const step of j.steps) {
    const name = step.name ?? step.uses ?? step.run ?? '?';
    const cond = step.if === undefined ? !failed : evaluate(step.if.replace(/^\$\{\{\s*|\s*\}\}$/g, ''), r, { ...ctx, failed });
    if (cond !== true && cond !== 'true') {
      results.push({ name, kind: step.uses ? 'uses' : 'run', outcome: 'skipped', stdout: '', stderr: '', reason: `if: ${step.if ?? 'success()'}` });
      continue;
    }
    const stepEnv = { ...env, ...evalEnv(step.env) };
    if (step.uses) {
      const action = step.uses.replace(/@.*$/, '');
      const simulate = r.actions[action];
      if (!simulate) throw new Error(`step "${name}" uses ${step.uses}, which this runner does not simulate`);
      const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, substitute(String(v), r, ctx)]));
      await simulate({ with: w, env });
      results.push({ name, kind: 'uses', outcome: 'success', stdout: '', stderr: '' });
      continue;
    }
    const script = step.run!;
    const reason = r.skip?.(script);
    if (reason) {
      results.push({ name, kind: 'run', outcome: 'skipped', stdout: '', stderr: '', reason });
      continue;
    }
    if (/\$\{\{/.test(script)) throw new Error(`step "${name}" expands \${{ }} inside its script (template injection): pass it through env`);
    await writeFile(files.output, '');
    await writeFile(files.env, '');
    const res = await bash(script, { ...stepEnv, GITHUB_OUTPUT: files.output, GITHUB_ENV: files.env }, r.cwd);
    results.push({ name, kind: 'run', outcome: res.code === 0 ? 'success' : 'failure', stdout: res.stdout, stderr: res.stderr });
    if (step.id) outputs[step.id] = keyValues(await readFile(files.output, 'utf8'));
    env = { ...env, ...keyValues(await readFile(files.env, 'utf8')) };
    if (res.code !== 0) failed = true;
    if (step.id !== undefined && step.id === r.until) break;
  }
  await appendFile(files.summary, '');
  return { steps: results, outputs, summary: await readFile(files.summary, 'utf8'), runnerTemp };
}

function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function substitute(text: string, r: WorkflowRun, ctx: { runnerTemp: string; outputs: Record<string, Record<string, string>> }): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => String(evaluate(expr, r, { ...ctx, failed: false })));
}

/** The expression forms the project's workflows use; anything else is an error, not a guess. */
function evaluate(expr: string, r: WorkflowRun, ctx: { runnerTemp: string; outputs: Record<string, Record<string, string>>; failed: boolean }): string | boolean {
  let m: RegExpExecArray | null;
  if (expr === '!cancelled()' || expr === 'always()') return true;
  if (expr === 'success()') return !ctx.failed;
  if ((m = /^inputs\.([\w-]+)$/.exec(expr))) return String(r.inputs?.[m[1]!] ?? '');
  if ((m = /^vars\.(\w+)$/.exec(expr))) return r.vars?.[m[1]!] ?? '';
  if ((m = /^secrets\.(\w+)$/.exec(expr))) return r.secrets?.[m[1]!] ?? '';
  if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr))) return ctx.outputs[m[1]!]?.[m[2]!] ?? '';
  if (expr === 'runner.temp') return ctx.runnerTemp;
  const github: Record<string, string> = { repository: r.github.repository, run_id: r.github.runId, run_attempt: '1', ref: r.github.ref, workflow: 'workflow' };
  if ((m = /^github\.(\w+)$/.exec(expr)) && github[m[1]!] !== undefined) return github[m[1]!]!;
  throw new Error(`the test runner does not evaluate \${{ ${expr} }}`);
}

function bash(script: string, env: Record<string, string | undefined>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
