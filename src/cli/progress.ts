/** Progress on stderr: a bar with ETA on a terminal, a line every few seconds otherwise. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, total: number, label?: string): void;
  stop(): void;
}

export function progress(title: string, enabled: boolean): Progress {
  if (!enabled) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${title} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} {label}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(value, total, label = '') {
        if (!started) {
          bar.start(total, 0, { label });
          started = true;
        }
        bar.setTotal(total);
        bar.update(value, { label });
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let last = 0;
  let t0 = 0;
  return {
    update(value, total, label = '') {
      const now = Date.now();
      // The clock starts at the first update, so a bar created before other work has an honest ETA.
      if (t0 === 0) t0 = now;
      if (now - last < 5000 && value < total) return;
      last = now;
      const elapsed = (now - t0) / 1000;
      const eta = value > 0 ? (elapsed * (total - value)) / value : NaN;
      process.stderr.write(
        `${title}: ${value}/${total} (${((100 * value) / total).toFixed(0)}%) ${label} elapsed ${elapsed.toFixed(0)}s eta ${Number.isFinite(eta) ? eta.toFixed(0) + 's' : '?'}\n`,
      );
    },
    stop() {},
  };
}

/** Progress of a run with stages (e.g. 'dre', 'calibrate', then the method): one bar per stage, shown as it starts. */
export function progressStages(enabled: boolean): { update: (p: { stage: string; done: number; total: number }) => void; stop: () => void } {
  let current: { stage: string; bar: Progress } | undefined;
  return {
    update: (p) => {
      if (!enabled) return;
      if (current?.stage !== p.stage) {
        current?.bar.stop();
        current = { stage: p.stage, bar: progress(p.stage, true) };
      }
      current.bar.update(Math.round(p.done), p.total);
    },
    // Idempotent: a command may stop its bar when its work ends and again when it exits.
    stop: () => {
      current?.bar.stop();
      current = undefined;
    },
  };
}
