/**
 * The fuzz targets: one per parser that reads untrusted bytes. `parsers` are the modules whose
 * branch coverage `npm run fuzz` reports for the target (docs/fuzzing.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Format } from './structure.ts';

export interface TargetSpec {
  name: string;
  /** What it feeds and through which production entry point. */
  what: string;
  format: Format;
  /** The target exports `prepare` (fills signature placeholders with this run's keys). */
  signs: boolean;
  parsers: string[];
  /** Time allowed for one input before it counts as a hang. */
  budgetMs: number;
}

export const REPO_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const TARGETS: readonly TargetSpec[] = [
  {
    name: 'tuf-metadata',
    what: 'one metadata file of a real repository (per-run keys), through TufClient.open/refresh/targetInfo/listTargets/fetchTarget',
    format: 'json',
    signs: true,
    parsers: ['src/verify/tuf-client.ts', 'src/verify/tuf-models-linear.ts', 'src/verify/tuf-models-verify-cache.ts', 'src/verify/tuf-errors.ts', 'src/net/tuf-fetcher.ts'],
    budgetMs: 5000,
  },
  {
    name: 'pointer',
    what: 'pointer YAML through checkPointer (parsePointer, URI containment, wheel binding)',
    format: 'yaml',
    signs: false,
    parsers: ['src/formats/pointer.ts', 'src/verify/pointer-check.ts'],
    budgetMs: 2000,
  },
  {
    name: 'attestation-bundle',
    what: 'Sigstore bundle bytes through checkAttestationSignature against a policy with this run\'s keys',
    format: 'json',
    signs: true,
    parsers: ['src/attest/bundle.ts', 'src/attest/verify.ts'],
    budgetMs: 3000,
  },
  {
    name: 'dsse-envelope',
    what: 'a DSSE envelope (JSON) inside a bundle, through checkAttestationSignature',
    format: 'json',
    signs: true,
    parsers: ['src/formats/dsse.ts'],
    budgetMs: 3000,
  },
  {
    name: 'statement',
    what: 'in-toto statement bytes through checkStatementTypes, checkSubject, checkProvenanceParameters, checkProvenancePolicy',
    format: 'json',
    signs: false,
    parsers: ['src/provenance/parse.ts', 'src/provenance/source-uri.ts', 'src/verify/attestation-check.ts'],
    budgetMs: 2000,
  },
  {
    name: 'policy',
    what: 'the policy target through parsePolicy, trustedKeys, checkProvenancePolicy and a real signed attestation',
    format: 'json',
    signs: false,
    parsers: ['src/policy/policy.ts', 'src/util/json-document.ts', 'src/attest/keys.ts', 'src/policy/pattern.ts'],
    budgetMs: 2000,
  },
  {
    name: 'index-state',
    what: 'PEP 691 JSON index state in a file-system repository, through updateIndex (parse, merge, compare-and-swap, HTML)',
    format: 'json',
    signs: false,
    parsers: ['src/simple-index/model.ts', 'src/simple-index/merge.ts', 'src/simple-index/state-store.ts', 'src/simple-index/html.ts'],
    budgetMs: 3000,
  },
  {
    name: 'pyproject',
    what: 'pyproject.toml of a real integration, through buildWheel (readProject, metadata, wheel assembly)',
    format: 'toml',
    signs: false,
    parsers: ['src/wheel/pyproject.ts', 'src/wheel/project-metadata.ts', 'src/wheel/requirement.ts', 'src/wheel/specifier.ts', 'src/wheel/license.ts', 'src/wheel/version-source.ts'],
    budgetMs: 3000,
  },
  {
    name: 'gitignore',
    what: '.gitignore of a real integration through readProject, and the same lines as include/exclude patterns through createFileSelector',
    format: 'lines',
    signs: false,
    parsers: ['src/wheel/gitignore.ts', 'src/wheel/file-selection.ts'],
    budgetMs: 3000,
  },
  {
    name: 'pep440',
    what: 'versions (one per line) as published pointer targets, through releasesOf/pickRelease and the wheel binding',
    format: 'lines',
    signs: false,
    parsers: ['src/formats/pep440.ts', 'src/verify/versions.ts'],
    budgetMs: 2000,
  },
  {
    name: 'pep503',
    what: 'project and wheel file names (one per line), through the download\'s name normalisation, releasesOf and wheelBindingProblem',
    format: 'lines',
    signs: false,
    parsers: ['src/formats/pep503.ts', 'src/formats/wheel-binding.ts'],
    budgetMs: 2000,
  },
  {
    name: 'http-response',
    what: 'raw HTTP response bytes from a loopback TCP server, through HttpFetcher.open and readAll',
    format: 'http',
    signs: false,
    parsers: ['src/net/http-fetcher.ts', 'src/net/fetcher.ts', 'src/net/net-errors.ts', 'src/net/retry.ts'],
    budgetMs: 5000,
  },
];

export function targetSpec(name: string): TargetSpec {
  const spec = TARGETS.find((t) => t.name === name);
  if (!spec) throw new Error(`unknown fuzz target ${JSON.stringify(name)}; known: ${TARGETS.map((t) => t.name).join(', ')}`);
  return spec;
}

export function targetModule(spec: TargetSpec): URL {
  return new URL(`../targets/${spec.name}.ts`, import.meta.url);
}

export function corpusDir(spec: TargetSpec): string {
  return path.join(REPO_ROOT, 'fuzz', 'corpus', spec.name);
}

/** The committed corpus, in name order: seeds from fixtures, then regression inputs. */
export function loadCorpus(spec: TargetSpec): { names: string[]; entries: Uint8Array[] } {
  let names: string[];
  try {
    names = readdirSync(corpusDir(spec)).filter((n) => !n.startsWith('.')).sort();
  } catch {
    names = [];
  }
  return { names, entries: names.map((n) => new Uint8Array(readFileSync(path.join(corpusDir(spec), n)))) };
}
