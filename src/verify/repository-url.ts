import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProvenantError } from '../errors.ts';

/**
 * The repository root as a URL ending in `/`: http(s), s3 and file URLs as given, a local path made
 * absolute. Everything the downloader fetches is this URL joined with a repository key.
 */
export function repositoryBaseUrl(input: string, cwd: string): string {
  const raw = input.trim();
  if (raw === '') throw usage('--repository is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw usage(`--repository ${JSON.stringify(raw)} is not a valid URL`);
    }
    if (!['http:', 'https:', 'file:', 's3:'].includes(u.protocol)) throw usage(`--repository scheme ${u.protocol} is not supported (http, https, s3, file or a path)`);
    if (u.search || u.hash) throw usage('--repository must not have a query or fragment');
    u.pathname = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
    return u.href;
  }
  const href = pathToFileURL(path.resolve(cwd, raw)).href;
  return href.endsWith('/') ? href : `${href}/`;
}

function usage(message: string): ProvenantError {
  return new ProvenantError('E_REPOSITORY_URL', message, {
    exitClass: 'usage',
    field: '--repository',
    hint: 'give the repository root: an http(s) URL or a local directory, e.g. --repository ./repository',
  });
}
