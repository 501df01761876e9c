/**
 * The playground built by Vite and served on a local port, and Debian's chromium driven by
 * Playwright: shared by the playground test and the browser bench. Test and bench helper (Node only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

/** Where chromium is looked for ($REFINERY_CHROMIUM, else Debian's). */
export const CHROMIUM = process.env.REFINERY_CHROMIUM ?? '/usr/bin/chromium';

export interface PlaygroundServer {
  /** The site's root URL (index.html; bench.html beside it). */
  url: string;
  close(): Promise<void>;
}

/** Build playground/ into a temporary folder and serve it (cross-origin isolated, as configured). */
export async function servePlayground(): Promise<PlaygroundServer> {
  const { build, preview } = await import('vite');
  const root = mkdtempSync(join(tmpdir(), 'refinery-playground-'));
  const configFile = join(repoRoot, 'playground', 'vite.config.ts');
  const outDir = join(root, 'site');
  let server: Awaited<ReturnType<typeof preview>> | undefined;
  try {
    await build({ configFile, logLevel: 'error', build: { outDir, emptyOutDir: true } });
    server = await preview({ configFile, logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('the preview server has no URL');
    const s = server;
    return {
      url,
      close: async () => {
        await new Promise<void>((done) => s.httpServer.close(() => done()));
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (server) await new Promise<void>((done) => server!.httpServer.close(() => done()));
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** Launch chromium headless through playwright-core. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}
