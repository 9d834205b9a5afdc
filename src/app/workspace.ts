import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ProvenantError } from '../errors.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { inputTree, readInput } from '../wheel/input-file.ts';

/** The integrations shipped with provenant, used when nothing else is at hand. */
export const BUNDLED_ROOT = path.resolve(import.meta.dirname, '../../examples/integrations');

export interface Integration {
  /** The directory name, e.g. `postgres` or `datadog_checks_base`. */
  name: string;
  dir: string;
  /** `[project].name` from pyproject.toml (`datadog-postgres`); absent when it cannot be read, which the build then reports. */
  project: string | undefined;
}

export interface Workspace {
  root: string;
  /** Why this root: given with --integrations-dir, the current directory, or the bundled examples. */
  origin: 'option' | 'cwd' | 'bundled';
  /** Sorted by directory name. */
  integrations: Integration[];
}

function readProjectName(pyproject: string): string | undefined {
  try {
    // Through the build's input gate: a FIFO would hang the listing, a link out of the tree is not ours to read.
    const file = readInput(inputTree(path.dirname(pyproject), pyproject), pyproject, { what: 'pyproject.toml', rel: 'pyproject.toml', field: undefined, parentInside: true });
    if (file === undefined) return undefined;
    const doc = parseToml(file.data.toString('utf8')) as { project?: { name?: unknown } };
    return typeof doc.project?.name === 'string' ? doc.project.name : undefined;
  } catch {
    // A broken pyproject.toml must not hide its siblings; building it reports the error in full.
    return undefined;
  }
}

/** Subdirectories of `root` holding a pyproject.toml. */
export async function listIntegrations(root: string): Promise<Integration[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const found: Integration[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dir = path.join(root, e.name);
    const pyproject = path.join(dir, 'pyproject.toml');
    if (!existsSync(pyproject)) continue;
    found.push({ name: e.name, dir, project: readProjectName(pyproject) });
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Where integrations live: `--integrations-dir` when given; else the current directory if it holds any;
 * else the examples bundled with provenant (so `npx provenant build --all` works anywhere).
 */
export async function openWorkspace(o: { root?: string | undefined; cwd: string; bundledRoot?: string }): Promise<Workspace> {
  if (o.root !== undefined) {
    const root = path.resolve(o.cwd, o.root);
    if (!isDirectory(root)) {
      throw new ProvenantError('E_INTEGRATIONS_DIR_INVALID', `--integrations-dir ${root} is not a directory`, {
        field: '--integrations-dir',
        hint: 'pass the directory that contains the integration directories (each with a pyproject.toml)',
      });
    }
    const integrations = await listIntegrations(root);
    if (integrations.length === 0) {
      throw new ProvenantError('E_INTEGRATIONS_DIR_INVALID', `no integrations under ${root} (no subdirectory has a pyproject.toml)`, {
        field: '--integrations-dir',
        hint: 'pass the directory that contains the integration directories, e.g. the integrations-core checkout',
      });
    }
    return { root, origin: 'option', integrations };
  }
  const here = await listIntegrations(o.cwd);
  if (here.length > 0) return { root: path.resolve(o.cwd), origin: 'cwd', integrations: here };
  const bundled = o.bundledRoot ?? BUNDLED_ROOT;
  return { root: bundled, origin: 'bundled', integrations: await listIntegrations(bundled) };
}

/** `postgres`, `datadog-postgres`, `Datadog_Postgres` and the directory name all name one integration. */
function matches(i: Integration, wanted: string): boolean {
  const n = normalizeProjectName(wanted);
  const candidates = [i.name, i.project ?? '', `datadog-${i.name}`].map(normalizeProjectName);
  return candidates.includes(n);
}

/** The integrations a command line names (deduplicated, in the order given), or all of them. */
export function selectIntegrations(ws: Workspace, names: readonly string[], all: boolean): Integration[] {
  if (all && names.length > 0) {
    throw new ProvenantError('E_USAGE', `--all builds every integration; do not also name some (${names.join(', ')})`, {
      exitClass: 'usage',
      hint: 'drop either --all or the names',
    });
  }
  if (all) {
    if (ws.integrations.length === 0) {
      throw new ProvenantError('E_INTEGRATION_UNKNOWN', `no integrations under ${ws.root}`, { exitClass: 'not-found', hint: 'pass --integrations-dir DIR' });
    }
    return ws.integrations;
  }
  if (names.length === 0) {
    throw new ProvenantError('E_USAGE', 'name at least one integration, or pass --all', { exitClass: 'usage', hint: `known here: ${known(ws)}` });
  }
  const picked: Integration[] = [];
  for (const wanted of names) {
    const hit = ws.integrations.find((i) => matches(i, wanted));
    if (!hit) {
      throw new ProvenantError('E_INTEGRATION_UNKNOWN', `unknown integration "${wanted}" under ${ws.root}`, {
        exitClass: 'not-found',
        hint: `use one of: ${known(ws)} (or --integrations-dir DIR for another checkout)`,
      });
    }
    if (!picked.includes(hit)) picked.push(hit);
  }
  return picked;
}

function known(ws: Workspace): string {
  return ws.integrations.length > 0 ? ws.integrations.map((i) => i.name).join(', ') : '(none)';
}
