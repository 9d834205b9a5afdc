/**
 * Writes the seed corpora (fuzz/corpus/<target>/seed-*) from the project's real fixtures: two
 * repositories made by `repo init` + `release --all` over the bundled examples (SLSA v1 and
 * v0.2), the examples' pyproject.toml and .gitignore files, the wheel tests' fixtures, and
 * responses written by Node's own HTTP server. Signed documents are stored as templates (see
 * lib/placeholders.ts): no private key and no signature of this run's keys is written.
 * Regression inputs (crash-*) are left alone.
 *
 *   node fuzz/gen-corpus.ts
 */
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { signAttestation } from '../src/attest/sign.ts';
import { defaultPolicy, renderPolicy } from '../src/policy/policy.ts';
import { LOCAL_BUILDER_ID } from '../src/provenance/builders.ts';
import { parseVersion } from '../src/formats/pep440.ts';
import { corpusDir, REPO_ROOT, targetSpec } from './engine/targets.ts';
import { ATTESTATION_KEYS, keyValues } from './lib/attestation-keys.ts';
import { makeFixtureRepository, type FixtureRepository } from './lib/fixture-repo.ts';
import { jsonEscaped, templatize } from './lib/placeholders.ts';
import { scratchDir } from './lib/scratch.ts';
import { keyNames, readJson, tufValues } from './lib/tuf-values.ts';
import { REPOSITORY } from './targets/pointer.ts';

type Seeds = Record<string, string | Uint8Array>;

function writeSeeds(target: string, seeds: Seeds): void {
  const dir = corpusDir(targetSpec(target));
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.startsWith('seed-')) rmSync(path.join(dir, f));
  for (const [name, content] of Object.entries(seeds)) writeFileSync(path.join(dir, `seed-${name}`), content);
  console.log(`${target}: ${Object.keys(seeds).length} seeds`);
}

function files(dir: string, filter: (rel: string) => boolean): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((r) => r.split(path.sep).join('/')).filter(filter).sort();
}

/** Quoted strings of a TypeScript source (the fixtures of a test file). */
function quotedStrings(file: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(/'((?:[^'\\\n]|\\.)*)'/g)].map((m) => m[1]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1'));
}

/** Signature placeholders: each `sig` value becomes `@@sig:<key name>@@` (names from the key store, or given). */
function templateSignatures(text: string, names: ReadonlyMap<string, string>, sigs: { keyid?: string; sig: string }[], fallback?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sigs) {
    const name = names.get(s.keyid ?? '') ?? fallback;
    if (name && text.includes(s.sig)) out[`sig:${name}`] = s.sig;
  }
  return out;
}

const base = scratchDir('gen');
const fx = await makeFixtureRepository(path.join(base, 'v1'), { provenance: 'slsa-v1', githubActions: true });
const fx02 = await makeFixtureRepository(path.join(base, 'v02'), { provenance: 'slsa-v0.2' });
const read = (f: FixtureRepository, rel: string) => readFileSync(path.join(f.repoDir, rel), 'utf8');

// ---- TUF metadata ----
{
  const values = tufValues(fx.repoDir, fx.keysDir);
  const names = keyNames(fx.keysDir);
  const seeds: Seeds = {};
  const template = (text: string) => {
    const doc = JSON.parse(text) as { signatures: { keyid: string; sig: string }[] };
    return templatize(text, { ...values, ...templateSignatures(text, names, doc.signatures) });
  };
  const metadata = files(path.join(fx.repoDir, 'metadata'), () => true);
  const emptyBin = metadata.find((f) => /^1\.bins-/.test(f) && !metadata.includes(f.replace(/^1\./, '2.')));
  for (const f of metadata) {
    if (f.startsWith('1.bins-') && f !== emptyBin) continue;
    if (f === '1.snapshot.json') continue;
    seeds[f] = template(read(fx, `metadata/${f}`));
  }
  // Expired copies (a freeze attack, or a repository nobody refreshes).
  for (const f of ['timestamp.json', `${seeds['2.snapshot.json'] ? '2.snapshot.json' : '1.snapshot.json'}`, '1.targets.json']) {
    if (typeof seeds[f] === 'string') seeds[`expired-${f}`] = seeds[f].replace(/"expires":"[^"]*"/, '"expires":"2001-01-01T00:00:00Z"');
  }
  // A root rotated to version 2 (same keys): what a client meets on its next refresh.
  const root = JSON.parse(read(fx, 'metadata/1.root.json')) as { signed: { version: number } };
  root.signed.version = 2;
  seeds['2.root.json'] = template(JSON.stringify(root));
  writeSeeds('tuf-metadata', seeds);
}

// ---- pointers ----
{
  const seeds: Seeds = {};
  for (const rel of files(path.join(fx.repoDir, 'pointers'), (r) => r.endsWith('.pointer'))) {
    const text = read(fx, `pointers/${rel}`);
    const m = /name: (\S+)\n\s+version: (\S+)/.exec(text)!;
    const header = `# release: ${m[1]} ${m[2]}\n`;
    seeds[path.basename(rel).replace(/^[0-9a-f]{64}\./, '')] = header + text;
    // The same pointer written with a public base URL (`--base-url`): absolute URIs.
    seeds[path.basename(rel).replace(/^[0-9a-f]{64}\./, 'absolute-')] = header + text.replace(/uri: (\S+)/g, `uri: ${REPOSITORY}$1`);
  }
  writeSeeds('pointer', seeds);
}

// ---- attestations: bundles, envelopes, statements, policy ----
{
  const bundles: Seeds = {};
  const envelopes: Seeds = {};
  for (const [label, f] of [['slsa-v1', fx], ['slsa-v0.2', fx02]] as const) {
    const names = new Map([[readJson<{ keys: { attestation: { keyid: string } } }>(path.join(f.keysDir, 'keys.json')).keys.attestation.keyid, 'attestation']]);
    const values = { 'keyid:attestation': [...names.keys()][0]! };
    for (const rel of files(path.join(f.repoDir, 'attestations'), (r) => r.endsWith('.sigstore.json'))) {
      const text = read(f, `attestations/${rel}`);
      const bundle = JSON.parse(text) as { dsseEnvelope: { signatures: { keyid?: string; sig: string }[] } };
      const t = templatize(text, { ...values, ...templateSignatures(text, names, bundle.dsseEnvelope.signatures, 'attestation') });
      const name = `${path.basename(rel, '-attestation.sigstore.json')}-${label}`;
      bundles[`${name}.json`] = t;
      envelopes[`${name}.json`] = `${JSON.stringify((JSON.parse(t) as { dsseEnvelope: unknown }).dsseEnvelope, null, 2)}\n`;
    }
  }
  // Two signatures (ECDSA and Ed25519), as `sign --key A --key B` writes for a threshold of 2.
  const statement = readFileSync(path.join(fx.integrationsDir, 'postgres/dist/datadog-postgres-23.2.0-attestation.json'));
  const two = new TextDecoder().decode((await signAttestation(statement, [ATTESTATION_KEYS.attestation!, ATTESTATION_KEYS['attestation-ed25519']!])).bytes);
  const sigs = (JSON.parse(two) as { dsseEnvelope: { signatures: { keyid: string; sig: string }[] } }).dsseEnvelope.signatures;
  const names = new Map(Object.entries(ATTESTATION_KEYS).map(([n, k]) => [k.keyId, n]));
  const t = templatize(two, { ...keyValues(), ...templateSignatures(two, names, sigs) });
  bundles['datadog-postgres-23.2.0-two-keys.json'] = t;
  envelopes['datadog-postgres-23.2.0-two-keys.json'] = `${JSON.stringify((JSON.parse(t) as { dsseEnvelope: unknown }).dsseEnvelope, null, 2)}\n`;
  writeSeeds('attestation-bundle', bundles);
  writeSeeds('dsse-envelope', envelopes);

  const statements: Seeds = {};
  for (const [label, f] of [['slsa-v1', fx], ['slsa-v0.2', fx02]] as const) {
    for (const integration of readdirSync(f.integrationsDir)) {
      for (const rel of files(path.join(f.integrationsDir, integration, 'dist'), (r) => r.endsWith('-attestation.json'))) {
        statements[`${rel.replace(/-\d[^-]*-attestation\.json$/, '')}-${label}.json`] = readFileSync(path.join(f.integrationsDir, integration, 'dist', rel));
      }
    }
  }
  writeSeeds('statement', statements);

  const policyFile = files(path.join(fx.repoDir, 'policy'), (r) => r.endsWith('.json'))[0]!;
  const fxKey = readJson<{ keys: { attestation: { keyid: string; public: string } } }>(path.join(fx.keysDir, 'keys.json')).keys.attestation;
  const strict = renderPolicy(
    defaultPolicy({
      attestationKeys: Object.values(ATTESTATION_KEYS),
      threshold: 2,
      builders: [LOCAL_BUILDER_ID, 'https://github.com/DataDog/*/.github/workflows/*'],
      sourceRepositories: ['https://github.com/DataDog/*'],
      refs: ['refs/heads/master', 'refs/tags/*'],
    }),
  );
  writeSeeds('policy', {
    'repo-init.json': templatize(read(fx, `policy/${policyFile}`), { 'keyid:attestation': fxKey.keyid, 'public:attestation': jsonEscaped(fxKey.public) }),
    'two-keys-strict.json': templatize(new TextDecoder().decode(strict), keyValues()),
  });
}

// ---- index state ----
writeSeeds(
  'index-state',
  Object.fromEntries(files(path.join(fx.repoDir, 'simple'), (r) => r.endsWith('index.json')).map((r) => [r === 'index.json' ? 'root.json' : `${path.dirname(r)}.json`, read(fx, `simple/${r}`)])),
);

// ---- pyproject.toml, .gitignore ----
{
  const examples = path.join(REPO_ROOT, 'examples/integrations');
  const pyprojects: Seeds = Object.fromEntries(readdirSync(examples).map((d) => [`${d}.toml`, readFileSync(path.join(examples, d, 'pyproject.toml'))]));
  const sink = /const KITCHEN_SINK_PYPROJECT = `([^`]*)`/.exec(readFileSync(path.join(REPO_ROOT, 'test/wheel/wheel-kitchen-sink.test.ts'), 'utf8'))![1]!;
  pyprojects['kitchen-sink.toml'] = sink.replace(/\\\\/g, '\\');
  // The version from a file through a custom pattern, and a compound SPDX expression.
  pyprojects['version-pattern.toml'] = readFileSync(path.join(examples, 'postgres/pyproject.toml'), 'utf8')
    .replace('license = "BSD-3-Clause"', 'license = "(MIT OR Apache-2.0 WITH LLVM-exception) AND BSD-3-Clause"')
    .replace('[tool.hatch.version]\n', '[tool.hatch.version]\npattern = "__version__ = [\'\\"](?P<version>[^\'\\"]+)"\n');
  writeSeeds('pyproject', pyprojects);

  const parity = readFileSync(path.join(REPO_ROOT, 'test/wheel/parity.test.ts'), 'utf8');
  const gitignores: Seeds = {
    'nginx.gitignore': readFileSync(path.join(examples, 'nginx/.gitignore')),
    'provenant.gitignore': readFileSync(path.join(REPO_ROOT, '.gitignore')),
    'kitchen-sink.gitignore': '# comment\n/tricky/ignored_by_git.py\n*.log\n',
  };
  [...parity.matchAll(/patterns: \[([^\]]*(?:\][^,\]]*)*)\], paths/g)].forEach((m, i) => {
    const patterns = [...m[1]!.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((p) => p[1]!.replace(/\\(.)/g, '$1'));
    gitignores[`parity-${i}.gitignore`] = `${patterns.join('\n')}\n`;
  });
  writeSeeds('gitignore', gitignores);
}

// ---- PEP 440 versions, PEP 503 names ----
{
  const strings = quotedStrings('test/wheel/pep440.test.ts').filter((s) => s.length < 40);
  const valid = [...new Set(strings.filter((s) => parseVersion(s) !== undefined))];
  const invalid = [...new Set(strings.filter((s) => parseVersion(s) === undefined && /\d/.test(s)))];
  const published = ['23.2.0', '37.1.0', '7.1.0', '8.1.0rc1'];
  writeSeeds('pep440', {
    'published.txt': `${published.join('\n')}\n`,
    'test-valid.txt': `${valid.join('\n')}\n`,
    'test-mixed.txt': `${[...invalid, ...valid.slice(0, 10)].join('\n')}\n`,
  });
  const names = [...new Set(quotedStrings('test/wheel/pep503.test.ts').filter((s) => s.length < 60 && !s.includes(' ') || s === 'a b'))];
  const wheels = files(fx.repoDir, (r) => r.endsWith('.whl')).map((r) => path.basename(r));
  writeSeeds('pep503', {
    'test-names.txt': `${names.join('\n')}\n`,
    'published-projects.txt': 'datadog-postgres\nDatadog_Checks.Base\n datadog-nginx\n',
    'published-wheels.txt': `${wheels.join('\n')}\n`,
  });
}

// ---- HTTP responses, as Node's HTTP server writes them ----
{
  const timestampJson = readFileSync(path.join(fx.repoDir, 'metadata/timestamp.json'));
  const big = Buffer.alloc(5000, 'x');
  const scenarios: Record<string, (res: ServerResponse) => void> = {
    '200-length': (res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': timestampJson.length }).end(timestampJson),
    '200-chunked': (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(timestampJson.subarray(0, 100));
      res.write(timestampJson.subarray(100));
      res.end();
    },
    '200-over-cap-length': (res) => res.writeHead(200, { 'content-length': big.length }).end(big),
    '200-over-cap-chunked': (res) => {
      res.writeHead(200);
      for (let i = 0; i < 5; i++) res.write(big.subarray(0, 1000));
      res.end();
    },
    '200-gzip': (res) => {
      const z = gzipSync(timestampJson);
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': z.length }).end(z);
    },
    '204': (res) => res.writeHead(204).end(),
    '206-partial': (res) => res.writeHead(206, { 'content-range': 'bytes 0-9/100', 'content-length': 10 }).end(timestampJson.subarray(0, 10)),
    '302-relative': (res) => res.writeHead(302, { location: '/metadata/2.timestamp.json' }).end(),
    '301-other-host': (res) => res.writeHead(301, { location: 'http://mirror.example/metadata/timestamp.json' }).end(),
    '307-https': (res) => res.writeHead(307, { location: 'https://secure.example/metadata/timestamp.json' }).end(),
    '404': (res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'),
    '403': (res) => res.writeHead(403).end(),
    '503-retry-after': (res) => res.writeHead(503, { 'retry-after': '1' }).end('busy'),
    '429-retry-date': (res) => res.writeHead(429, { 'retry-after': new Date(Date.UTC(2030, 0, 1)).toUTCString() }).end(),
  };
  const server = createServer((req, res) => {
    res.shouldKeepAlive = false;
    res.sendDate = false;
    scenarios[req.url!.slice(1)]!(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const seeds: Seeds = {};
  for (const name of Object.keys(scenarios)) {
    seeds[`${name}.http`] = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      const s = connect(port, '127.0.0.1', () => s.write(`GET /${name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
      s.on('data', (d) => parts.push(d));
      s.on('end', () => resolve(Buffer.concat(parts)));
      s.on('error', reject);
    });
  }
  // What Node never writes but servers and proxies do: HTTP/1.0 with the body ending at close.
  seeds['200-http10-until-close.http'] = Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n'), timestampJson]);
  server.close();
  writeSeeds('http-response', seeds);
}
process.exit(0);
