import path from 'node:path';
import type { PublishStatementsResult } from '../app/publish-statements.ts';
import { ProvenantError } from '../errors.ts';
import { readRegularFile } from '../util/read-regular-file.ts';
import type { CliContext } from './context.ts';
import { printJson } from './output.ts';

/**
 * The signed statement files a publisher was handed (approvals, rebuild VSAs), each a regular
 * file of at most 1 MiB: a FIFO or /dev/zero named by mistake must not hang or fill memory.
 */
export async function readStatementFiles(ctx: CliContext, files: readonly string[], err: { code: string; what: string; hint: string }): Promise<{ file: string; bytes: Uint8Array }[]> {
  return Promise.all(
    files.map(async (f) => {
      const file = path.resolve(ctx.cwd, f);
      try {
        return { file: f, bytes: new Uint8Array(await readRegularFile(file, 1 << 20)) };
      } catch (e) {
        throw new ProvenantError(err.code, `cannot read the ${err.what} ${file}: ${(e as Error).message}`, { exitClass: 'input', file, field: '--publish', hint: err.hint });
      }
    }),
  );
}

export function printPublished(ctx: CliContext, json: boolean | undefined, res: PublishStatementsResult): void {
  if (json) printJson(ctx.out, { ok: true, ...res });
  else ctx.out.stdout(`published: ${res.published.join(' ') || 'none'}${res.unchanged.length > 0 ? `; already published: ${res.unchanged.join(' ')}` : ''}\n`);
}
