import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * Debian's Chromium (scripts/peers.d/chromium.sh installs it), driven headless by puppeteer-core,
 * which never downloads a browser of its own. Missing, the test fails with the install command:
 * a browser test that cannot run must not pass.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, 'chromium');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  throw new Error('chromium is not on PATH: run `bash scripts/peers.d/chromium.sh` (npm test runs it through scripts/peers.sh)');
}

export async function launchChromium(t: { after(fn: () => unknown): void }): Promise<Browser> {
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in a container: no user namespaces for Chromium's sandbox. Nothing but loopback and
    // file:// pages made by the test is opened.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--font-render-hinting=none'],
    timeout: 60_000,
  });
  t.after(() => browser.close());
  return browser;
}
