/**
 * Fault injection for the robustness tests: a named point where a test can make the process die
 * at once (SIGKILL, as a power cut or the OOM killer would), to check that whatever is on disk
 * then is consistent and resumable. Inert unless REFINERY_FAULT names the point
 * (`REFINERY_FAULT=<point>` or `<point>@<k>` for its k-th visit, counted from 1).
 */
const visits = new Map<string, number>();

export function faultPoint(name: string): void {
  const spec = process.env.REFINERY_FAULT;
  if (spec === undefined || spec === '') return;
  const [point, at] = spec.split('@');
  if (point !== name) return;
  const k = (visits.get(name) ?? 0) + 1;
  visits.set(name, k);
  if (at === undefined || Number(at) === k) process.kill(process.pid, 'SIGKILL');
}
