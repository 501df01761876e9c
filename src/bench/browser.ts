/**
 * The browser side of the bench (`--browser`): the playground's bench page (playground/bench.ts)
 * in Debian's chromium through Playwright, timing the same latent step on the same pair and
 * latents as the Node side, in blocks interleaved with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { metaJson } from '../models/meta.js';
import type { ModelPair } from '../models/pair.js';
import type { Tensor } from '../tensor.js';
import { CHROMIUM, launchChromium, type PlaygroundServer, servePlayground } from '../testing/browser.js';

export interface BrowserInfo {
  chromium: string;
  user_agent: string;
  onnxruntime_web: string | null;
  threads: number;
  cross_origin_isolated: boolean;
}

interface BenchPage {
  evaluate<T>(expression: string): Promise<T>;
  evaluate<T, A>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
}

export class BrowserTwin {
  private constructor(
    readonly info: BrowserInfo,
    private readonly page: BenchPage,
    private readonly stop: () => Promise<void>,
  ) {}

  /** Serve the playground, open its bench page in chromium with `threads` WASM threads; or say why not. */
  static async start(threads: number): Promise<BrowserTwin | { unavailable: string }> {
    if (!existsSync(CHROMIUM)) return { unavailable: `no chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set REFINERY_CHROMIUM)` };
    let server: PlaygroundServer | undefined;
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
    const stop = async () => {
      await browser?.close();
      await server?.close();
    };
    try {
      server = await servePlayground();
      browser = await launchChromium();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(new URL(`bench.html?threads=${threads}`, server.url).href);
      await page.waitForFunction("document.body.dataset.ready === 'yes'", undefined, { timeout: 60_000 });
      if (errors.length > 0) throw new Error(errors.join('; '));
      const info = await page.evaluate<Omit<BrowserInfo, 'chromium'>>('refineryBench.info()');
      return new BrowserTwin({ chromium: browser.version(), ...info }, page as unknown as BenchPage, stop);
    } catch (e) {
      await stop();
      return { unavailable: `the browser bench page failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  /** Build the page's latent target for `pair` (its files' bytes) and latents z; returns the page's setup time, ms. */
  async setup(pair: ModelPair, z: Tensor): Promise<number> {
    const b64 = (path: string) => readFileSync(path).toString('base64');
    return this.page.evaluate(
      (a: { g: string; d: string; meta: object; z: number[]; shape: number[] }) =>
        (globalThis as unknown as { refineryBench: { setup(...x: unknown[]): Promise<number> } }).refineryBench.setup(a.g, a.d, a.meta, a.z, a.shape),
      { g: b64(pair.files.generator), d: b64(pair.files.discriminator), meta: JSON.parse(metaJson(pair.meta)), z: Array.from(z.data), shape: z.shape },
    );
  }

  /** Milliseconds of each of `calls` latent steps in the page. */
  time(calls: number): Promise<number[]> {
    return this.page.evaluate(`refineryBench.time(${calls})`);
  }

  close(): Promise<void> {
    return this.stop();
  }
}
