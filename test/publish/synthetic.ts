import { bundleFileName } from '../../src/formats/layout.ts';
import type { Release } from '../../src/app/publish.ts';
import { pinnedRelease } from '../helpers/release.ts';

const enc = (s: string) => new TextEncoder().encode(s);

/**
 * A release made of synthetic bytes (no real build or signature): enough for the publish
 * protocol and TUF clients, which only ever check digests and lengths of these objects.
 * `salt` changes the wheel bytes, to test immutability.
 */
export function syntheticRelease(project: string, version: string, salt = ''): Release {
  const fileName = `${project.replace(/-/g, '_')}-${version}-py3-none-any.whl`;
  const wheel = enc(`synthetic wheel ${project} ${version}${salt}\n`);
  const metadata = enc(`Metadata-Version: 2.1\nName: ${project}\nVersion: ${version}\nRequires-Python: >=3.9\n\nSynthetic.\n`);
  const bundleName = bundleFileName(project, version);
  const attestation = enc(JSON.stringify({ synthetic: true, project, version, salt }));
  return pinnedRelease(project, version, { fileName, bytes: wheel, metadata }, { fileName: bundleName, bytes: attestation });
}
