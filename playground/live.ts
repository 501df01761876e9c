// The live view of a run: the frames `refine` sends with `watch` (chains step by step, proposals
// accepted or rejected), drawn as they come. 2-D samples go on a canvas with trails; images are
// shown as a grid of the watched samples.
import { imageGridPng, type RefineFrame } from '../src/browser.js';

const SIZE = 360;

export interface LiveSetup {
  /** [n, ...dataShape] of one sample. */
  dataShape: number[];
  /** xmin, xmax, ymin, ymax of the 2-D view. */
  bounds?: [number, number, number, number];
  /** Mode centres to mark (k x 2). */
  markers?: Float64Array;
  /** Value range of images. */
  range?: [number, number];
}

export class LiveView {
  private setup: LiveSetup = { dataShape: [2] };
  /** Trails and accumulated proposals, under the current positions. */
  private trail = document.createElement('canvas');
  private last: Float32Array | undefined;
  frames = 0;
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly image: HTMLImageElement,
    private readonly info: HTMLElement,
  ) {
    this.trail.width = SIZE;
    this.trail.height = SIZE;
  }

  private get is2d(): boolean {
    return this.setup.dataShape.length === 1 && this.setup.dataShape[0] === 2;
  }

  reset(setup: LiveSetup): void {
    this.setup = setup;
    this.last = undefined;
    this.frames = this.accepted = this.rejected = 0;
    this.trail.getContext('2d')!.clearRect(0, 0, SIZE, SIZE);
    this.canvas.hidden = !this.is2d;
    this.image.hidden = true;
    this.info.textContent = '';
    this.compose();
  }

  private px(x: number, y: number): [number, number] {
    const [x0, x1, y0, y1] = this.setup.bounds ?? [-1, 1, -1, 1];
    return [((x - x0) / (x1 - x0)) * SIZE, SIZE - ((y - y0) / (y1 - y0)) * SIZE];
  }

  private dot(ctx: CanvasRenderingContext2D, x: number, y: number, r: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const [u, v] = this.px(x, y);
    ctx.fillRect(u - r / 2, v - r / 2, r, r);
  }

  /** Background, markers, the trail layer, then `current` drawn on top. */
  private compose(current?: (ctx: CanvasRenderingContext2D) => void): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, SIZE, SIZE);
    ctx.drawImage(this.trail, 0, 0);
    const m = this.setup.markers;
    if (m) {
      ctx.strokeStyle = '#000';
      for (let k = 0; k < m.length; k += 2) {
        const [u, v] = this.px(m[k], m[k + 1]);
        ctx.beginPath();
        ctx.moveTo(u - 4, v);
        ctx.lineTo(u + 4, v);
        ctx.moveTo(u, v - 4);
        ctx.lineTo(u, v + 4);
        ctx.stroke();
      }
    }
    current?.(ctx);
  }

  /** Draw one frame; resolves after `delayMs` (at least one task, so that the page paints). */
  async frame(f: RefineFrame, delayMs: number): Promise<void> {
    this.frames++;
    let acceptedNow = 0;
    if (f.accepted) for (const a of f.accepted) acceptedNow += a;
    if (f.kind === 'proposals') {
      this.accepted += acceptedNow;
      this.rejected += f.rows - acceptedNow;
    }
    if (this.is2d) this.draw2d(f);
    else if (this.setup.dataShape.length === 3) {
      const k = Math.min(16, f.rows);
      const png = imageGridPng(f.samples.subarray(0, k * (f.samples.length / f.rows)), [k, ...this.setup.dataShape], { range: this.setup.range });
      URL.revokeObjectURL(this.image.src);
      this.image.src = URL.createObjectURL(new Blob([png.slice()], { type: 'image/png' }));
      this.image.hidden = false;
    }
    const i = f.info;
    this.info.textContent =
      f.kind === 'chain'
        ? `${f.method}: step ${f.step} of ${f.numSteps}, ${f.rows} chains shown` +
          (i ? ` · acceptance ${i.acceptance.toFixed(3)} · mean |gradient| ${i.gradNorm.toPrecision(3)}` : '') +
          (f.accepted && f.step > 0 ? ` · ${acceptedNow} of ${f.rows} moved (green)` : '')
        : `${f.method}: ${f.step > 1 || f.numSteps === 0 ? `round ${f.step}, ` : ''}${this.accepted} accepted (green), ${this.rejected} rejected (red)`;
    document.body.dataset.frames = String(this.frames);
    document.body.dataset.accepted = String(this.accepted);
    document.body.dataset.rejected = String(this.rejected);
    await new Promise((done) => setTimeout(done, delayMs));
  }

  private draw2d(f: RefineFrame): void {
    const t = this.trail.getContext('2d')!;
    const s = f.samples;
    if (f.kind === 'proposals') {
      for (let k = 0; k < f.rows; k++) {
        const ok = f.accepted?.[k] === 1;
        t.fillStyle = ok ? 'rgba(20, 150, 60, 0.9)' : 'rgba(200, 40, 40, 0.35)';
        this.dot(t, s[2 * k], s[2 * k + 1], ok ? 4 : 3);
      }
      this.compose();
      return;
    }
    // Chains: older trails fade, a faint segment from each chain's previous position, then the current positions.
    const prev = this.last;
    if (prev && prev.length === s.length) {
      t.globalCompositeOperation = 'destination-out';
      t.fillStyle = 'rgba(0, 0, 0, 0.12)';
      t.fillRect(0, 0, SIZE, SIZE);
      t.globalCompositeOperation = 'source-over';
      // Independence jumps (MH) cross the whole view: fainter than the small moves of dynamics.
      t.strokeStyle = f.accepted ? 'rgba(50, 100, 200, 0.06)' : 'rgba(50, 100, 200, 0.18)';
      t.beginPath();
      for (let k = 0; k < f.rows; k++) {
        const a = this.px(prev[2 * k], prev[2 * k + 1]);
        const b = this.px(s[2 * k], s[2 * k + 1]);
        if (![...a, ...b].every(Number.isFinite)) continue;
        t.moveTo(a[0], a[1]);
        t.lineTo(b[0], b[1]);
      }
      t.stroke();
    }
    this.last = Float32Array.from(s);
    this.compose((ctx) => {
      for (let k = 0; k < f.rows; k++) {
        ctx.fillStyle = f.accepted ? (f.accepted[k] === 1 ? '#149638' : '#888') : '#36c';
        this.dot(ctx, s[2 * k], s[2 * k + 1], 4);
      }
    });
  }
}
