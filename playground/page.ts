// The playground page: load a pair (files or drag and drop), pick a method and its options (the
// registry's ids, flags and defaults, as the CLI shows them), refine in the page and compare.
// Loaded by main.ts once onnxruntime-web is installed.
import {
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type CalibrationReport,
  DATASET_NAMES,
  encodeNpy,
  evaluate,
  getDataset,
  imagePanelsPng,
  METHOD_IDS,
  METHOD_INFO,
  metaJson,
  METHOD_DEFAULTS,
  type MethodId,
  type ModelPair,
  parseNpy,
  type RefineFrame,
  type RefineProgress,
  modeMetrics,
  pairFromBytes,
  RefineryError,
  Rng,
  refine,
  reliabilityPng,
  sample,
  scatterPng,
  trainMlpInMemory,
  type TrainProgress,
} from '../src/browser.js';
import { LiveView } from './live.js';


const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const methodSelect = $<HTMLSelectElement>('method');
const optionsBox = $('options');
const runButton = $<HTMLButtonElement>('run');
const downloadButton = $<HTMLButtonElement>('download');
let pair: ModelPair | undefined;
let refined: { data: Float32Array; shape: number[] } | undefined;
/** Held-out real samples given as a .npy file (instead of the pair's built-in dataset). */
let userReal: { data: Float32Array; shape: number[] } | undefined;
/** The picture shown last (for the PNG download). */
let shownPng: Uint8Array | undefined;
const live = new LiveView($<HTMLCanvasElement>('live'), $<HTMLImageElement>('live-img'), $('live-info'));

function say(text: string, error = false): void {
  status.textContent = text;
  status.className = error ? 'error' : '';
}

function explain(e: unknown): string {
  if (e instanceof RefineryError) return e.issues.map((i) => `${i.path}: expected ${i.expected}, received ${i.received}`).join('; ');
  return e instanceof Error ? e.message : String(e);
}

// Every method; those that need held-out real samples (MH starts, DRE-F-SP) get them from the
// pair's built-in 2-D dataset, and are disabled for a pair without one.
/** Append an option `value` shown as `text` to `select`. */
function addOption(select: HTMLSelectElement, value: string, text = value): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  select.append(o);
  return o;
}

for (const id of METHOD_IDS) addOption(methodSelect, id, `${id}: ${METHOD_INFO[id].summary}`).dataset.needsReal = String(METHOD_INFO[id].needsReal);
const calibrateSelect = $<HTMLSelectElement>('calibrate');
for (const c of CALIBRATION_METHODS) addOption(calibrateSelect, c);

/** The pair's built-in 2-D dataset, when it names one. */
function pairDataset(): ReturnType<typeof getDataset> | undefined {
  const name = pair?.meta.dataset;
  return name && (DATASET_NAMES as readonly string[]).includes(name) ? getDataset(name) : undefined;
}

/** The user's real samples when their rows have the pair's sample shape. */
function userRealFits(): boolean {
  const shape = pair?.meta.dataShape;
  return !!userReal && !!shape && userReal.shape.length === shape.length + 1 && shape.every((v, i) => userReal!.shape[i + 1] === v);
}

/**
 * Held-out real samples: the user's .npy, else draws from the pair's dataset on a stream of
 * their own (`stream` tells refinement's draws from evaluation's), or undefined.
 */
function heldOutReal(seed: number, stream = 0x7265616c): { data: Float32Array; shape: number[] } | undefined {
  if (userRealFits()) return userReal;
  const ds = pairDataset();
  if (!ds) return undefined;
  const m = 2000;
  return { data: ds.sample(m, new Rng(seed, stream)), shape: [m, 2] };
}

/** Methods and calibration that need real samples are offered only when there are some. */
function updateAvailability(): void {
  const hasReal = heldOutReal(0) !== undefined;
  $('real').textContent = userReal
    ? `${userReal.shape[0]} samples [${userReal.shape.slice(1).join(', ')}] from the file${pair && !userRealFits() ? ': not the shape of the model\'s samples, not used' : ''}.`
    : pairDataset()
      ? `Drawn from ${pair!.meta.dataset} (2,000 samples).`
      : 'None: load a .npy of real samples for MH, DRE-F-SP, calibration and the metrics.';
  for (const o of methodSelect.options) o.disabled = o.dataset.needsReal === 'true' && !hasReal;
  calibrateSelect.disabled = !hasReal;
  if (!hasReal) calibrateSelect.value = 'none';
  if (methodSelect.selectedOptions[0]?.disabled) {
    methodSelect.value = 'drs';
    showOptions();
  }
}

/** Number and boolean options of the method, with their defaults, as inputs named by key. */
function showOptions(): void {
  optionsBox.replaceChildren();
  const info = METHOD_INFO[methodSelect.value as MethodId];
  const defaults = info.defaults as Record<string, unknown>;
  for (const [key, spec] of Object.entries(info.options as Record<string, { flag: string; type: { kind: string }; description: string }>)) {
    const kind = spec.type.kind;
    if (kind !== 'integer' && kind !== 'number' && kind !== 'boolean') continue;
    const label = document.createElement('label');
    label.title = spec.description;
    const input = document.createElement('input');
    input.dataset.key = key;
    input.dataset.kind = kind;
    if (kind === 'boolean') {
      input.type = 'checkbox';
      input.checked = defaults[key] === true;
    } else {
      input.type = 'number';
      input.step = 'any';
      if (typeof defaults[key] === 'number' && Number.isFinite(defaults[key])) input.value = String(defaults[key]);
    }
    label.append(`${spec.flag} `, input);
    optionsBox.append(label);
  }
}
methodSelect.addEventListener('change', showOptions);
showOptions();
updateAvailability();

function readOptions(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const input of optionsBox.querySelectorAll('input')) {
    const key = input.dataset.key!;
    if (input.dataset.kind === 'boolean') out[key] = input.checked;
    else if (input.value !== '') out[key] = Number(input.value);
  }
  return out;
}

function setPair(p: ModelPair, message: string): void {
  pair = p;
  const m = p.meta;
  $('model').textContent = `latent ${m.latentDim} (${m.latentPrior}), samples [${m.dataShape.join(', ')}], D outputs ${m.dOutput}${m.dataset ? `, trained on ${m.dataset}` : ''}`;
  runButton.disabled = false;
  updateAvailability();
  say(message);
}

// Training a 2-D GAN in the page, with its losses drawn as they come.
const datasetSelect = $<HTMLSelectElement>('dataset');
for (const name of DATASET_NAMES) addOption(datasetSelect, name);

function drawLosses(history: TrainProgress[]): void {
  const canvas = $<HTMLCanvasElement>('losses');
  canvas.hidden = false;
  const ctx = canvas.getContext('2d');
  if (!ctx || history.length === 0) return;
  const { width: W, height: H } = canvas;
  ctx.clearRect(0, 0, W, H);
  const values = history.flatMap((p) => [p.lossD, p.lossG]).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values, lo + 1e-6);
  const last = history[history.length - 1];
  const line = (key: 'lossD' | 'lossG', color: string) => {
    ctx.strokeStyle = color;
    ctx.beginPath();
    history.forEach((p, i) => {
      const x = (p.step / last.steps) * (W - 4) + 2;
      const y = H - 14 - ((p[key] - lo) / (hi - lo)) * (H - 20);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  };
  line('lossD', '#c33');
  line('lossG', '#36c');
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  ctx.fillText(`step ${last.step}/${last.steps}  loss D ${last.lossD.toFixed(3)} (red)  G ${last.lossG.toFixed(3)} (blue)`, 2, H - 2);
}

$<HTMLButtonElement>('train').addEventListener('click', async () => {
  const button = $<HTMLButtonElement>('train');
  button.disabled = true;
  const history: TrainProgress[] = [];
  try {
    const num = (id: string) => Number($<HTMLInputElement>(id).value);
    say('Training…');
    const t = performance.now();
    const r = await trainMlpInMemory(
      { dataset: datasetSelect.value, steps: num('steps'), finetuneD: num('finetune'), hidden: num('hidden'), seed: num('seed') },
      {
        onProgress: (p) => {
          history.push(p);
          drawLosses(history);
          say(`Training: step ${p.step} of ${p.steps}`);
        },
      },
    );
    setPair(
      pairFromBytes({ generator: r.generator, discriminator: r.discriminator, meta: JSON.parse(metaJson(r.meta)) }),
      `Trained in ${((performance.now() - t) / 1000).toFixed(1)} s.`,
    );
    document.body.dataset.trained = 'yes';
  } catch (e) {
    say(`Training failed: ${explain(e)}`, true);
  } finally {
    button.disabled = false;
  }
});

async function loadFiles(files: FileList | File[]): Promise<void> {
  const byName = new Map<string, File>();
  for (const f of files) byName.set(f.name, f);
  const bytes = async (name: string) => new Uint8Array(await byName.get(name)!.arrayBuffer());
  try {
    if (!byName.has('generator.onnx') || !byName.has('discriminator.onnx')) throw new Error('expected generator.onnx and discriminator.onnx (and meta.json)');
    const meta = byName.has('meta.json') ? JSON.parse(new TextDecoder().decode(await bytes('meta.json'))) : undefined;
    setPair(pairFromBytes({ generator: await bytes('generator.onnx'), discriminator: await bytes('discriminator.onnx'), meta }), 'Model loaded.');
  } catch (e) {
    say(`Could not load the model: ${explain(e)}`, true);
  }
}

$<HTMLInputElement>('real-file').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    const a = parseNpy(new Uint8Array(await file.arrayBuffer()));
    if (a.shape.length < 2 || a.shape[0] < 1) throw new Error(`expected an array [m, ...sample shape], received shape [${a.shape.join(', ')}]`);
    userReal = { data: Float32Array.from(a.data as ArrayLike<number>), shape: a.shape };
    updateAvailability();
    say(`Real samples loaded: ${a.shape[0]}.`);
  } catch (err) {
    say(`Could not read ${file.name}: ${explain(err)}`, true);
  }
});

$<HTMLInputElement>('files').addEventListener('change', (e) => {
  const files = (e.target as HTMLInputElement).files;
  if (files) void loadFiles(files);
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer?.files) void loadFiles(e.dataTransfer.files);
});

/** The Z diagnostic of D before and after calibration, on the calibration's held-out test part. */
function showCalibration(c: CalibrationReport): void {
  const body = $('calibration').querySelector('tbody')!;
  body.replaceChildren();
  for (const [name, d] of [
    ['raw D', c.before],
    [c.method, c.after],
  ] as const) {
    const tr = document.createElement('tr');
    tr.dataset.row = name === 'raw D' ? 'before' : 'after';
    for (const v of [name, d.spiegelhalterZ.toFixed(2), d.ece.toFixed(4), d.logLoss.toFixed(4), d.accuracy.toFixed(3)]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
  $('calibration').hidden = false;
  showPng(
    $<HTMLImageElement>('reliability'),
    reliabilityPng(
      [
        { label: 'raw D', diagnostic: c.before },
        { label: c.method, diagnostic: c.after },
      ],
      { size: 260, title: 'reliability (test part)' },
    ),
  );
}

/** Show PNG bytes in `img`. */
function showPng(img: HTMLImageElement, png: Uint8Array): void {
  URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(new Blob([png.slice()], { type: 'image/png' }));
  img.hidden = false;
}

/** FD, KID, precision/recall and density/coverage of the generator's and the refined samples against held-out real ones. */
async function showEvaluation(real: { data: Float32Array; shape: number[] }, rows: [string, { data: Float32Array; shape: number[] }][], seed: number): Promise<void> {
  const body = $('eval').querySelector('tbody')!;
  body.replaceChildren();
  for (const [name, fake] of rows) {
    const { metrics: m } = await evaluate(real, fake, { metrics: ['fd', 'kid', 'pr', 'dc'], seed, kidSubsets: 20 });
    const tr = document.createElement('tr');
    tr.dataset.row = name;
    for (const v of [name, m.fd!.distance.toPrecision(3), m.kid!.mean.toPrecision(3), m.pr!.precision.toFixed(3), m.pr!.recall.toFixed(3), m.dc!.density.toFixed(3), m.dc!.coverage.toFixed(3)]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
  $('eval').hidden = false;
}

/** Chain steps of the method's run (for the frame rate of the live view), from the form or the defaults. */
function stepsOf(method: MethodId, options: Record<string, unknown>): number {
  const d = METHOD_DEFAULTS[method] as Record<string, unknown>;
  const v = options.numSteps ?? options.chainLength ?? d.numSteps ?? d.chainLength;
  return typeof v === 'number' && v > 0 ? v : 1;
}

/** A square view holding every finite point of the panels, with a 5% margin. */
function boundsOf(panels: { points: Float32Array }[]): [number, number, number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels) for (const v of p.points) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (!(hi > lo)) [lo, hi] = [-1, 1];
  const m = 0.05 * (hi - lo);
  return [lo - m, hi + m, lo - m, hi + m];
}

function addRow(name: string, modes: string, hq: string, seconds: number): void {
  const tr = document.createElement('tr');
  tr.dataset.row = name;
  for (const v of [name, modes, hq, seconds.toFixed(2)]) {
    const td = document.createElement('td');
    td.textContent = v;
    tr.append(td);
  }
  $('metrics').querySelector('tbody')!.append(tr);
}

runButton.addEventListener('click', async () => {
  if (!pair) return;
  const method = methodSelect.value as MethodId;
  const n = Number($<HTMLInputElement>('n').value);
  const seed = Number($<HTMLInputElement>('seed').value);
  const delay = Math.max(0, Number($<HTMLInputElement>('delay').value) || 0);
  runButton.disabled = true;
  for (const id of ['metrics', 'calibration', 'plot', 'eval', 'reliability']) $(id).hidden = true;
  $('metrics').querySelector('tbody')!.replaceChildren();
  const is2d = pair.meta.dataShape.length === 1 && pair.meta.dataShape[0] === 2;
  const ds = pairDataset();
  try {
    say('Sampling the generator…');
    let t = performance.now();
    const before = await sample(pair, { n, seed });
    const tBefore = (performance.now() - t) / 1000;
    const beforeSamples = before.samples as { data: Float32Array; shape: number[] };
    const view: [number, number, number, number] | undefined = is2d
      ? (ds?.bounds ?? boundsOf([{ points: beforeSamples.data }]))
      : undefined;
    live.reset({ dataShape: pair.meta.dataShape, bounds: view, markers: ds?.modes, range: pair.meta.outputRange ?? [-1, 1] });
    say(`Refining with ${method}…`);
    t = performance.now();
    const real = heldOutReal(seed);
    const calibrate = calibrateSelect.value as CalibrationMethod;
    const options = readOptions();
    const r = await refine(pair, {
      method,
      n,
      seed,
      ...options,
      ...(real ? { real } : {}),
      ...(calibrate !== 'none' ? { calibrate } : {}),
      // The live view: the first rows, about 100 frames a run.
      watch: { rows: is2d ? 300 : 16, every: Math.max(1, Math.ceil(stepsOf(method, options) / 100)), onFrame: (f: RefineFrame) => live.frame(f, delay) },
      onProgress: (p: RefineProgress) => say(`${p.stage}: ${Math.round((100 * p.done) / p.total)}%`),
    } as never);
    const tAfter = (performance.now() - t) / 1000;
    refined = r.samples as { data: Float32Array; shape: number[] };
    downloadButton.disabled = false;
    if (is2d) {
      const panels = [
        { title: 'generator', points: beforeSamples.data },
        { title: method, points: refined.data },
      ];
      if (ds) {
        const mb = modeMetrics(beforeSamples.data, ds);
        const ma = modeMetrics(refined.data, ds);
        addRow('generator', `${mb.recoveredModes} of ${mb.numModes}`, mb.highQualityPercent.toFixed(1), tBefore);
        addRow(method, `${ma.recoveredModes} of ${ma.numModes}`, ma.highQualityPercent.toFixed(1), tAfter);
        panels[0].title += `: ${mb.highQualityPercent.toFixed(1)}%`;
        panels[1].title += `: ${ma.highQualityPercent.toFixed(1)}%`;
        $('metrics').hidden = false;
      }
      shownPng = scatterPng(panels, ds ? { bounds: ds.bounds, markers: ds.modes, columns: 2, size: 360 } : { bounds: boundsOf(panels), columns: 2, size: 360 });
    }
    if (pair.meta.dataShape.length === 3) {
      const shown = Math.min(n, 64);
      const rows = (t: { data: Float32Array | Float64Array }) => Float32Array.from(t.data.subarray(0, shown * (t.data.length / n)));
      const shape = [shown, ...pair.meta.dataShape];
      shownPng = imagePanelsPng(
        [
          { title: 'generator', data: rows(beforeSamples), shape },
          { title: method, data: rows(refined), shape },
        ],
        { range: pair.meta.outputRange ?? [-1, 1] },
      );
    }
    if (shownPng) {
      showPng($<HTMLImageElement>('plot'), shownPng);
      $<HTMLButtonElement>('download-png').disabled = false;
    }
    if (r.calibration) showCalibration(r.calibration);
    // Metrics against held-out real samples of their own (k-NN metrics need a few dozen rows).
    const evalReal = heldOutReal(seed, 0x6576616c);
    if (evalReal && n >= 50 && evalReal.shape[0] >= 50) {
      say('Evaluating…');
      await showEvaluation(evalReal, [
        ['generator', beforeSamples],
        [method, refined],
      ], seed);
    }
    const s = r.summary as Record<string, unknown>;
    say(`Done: ${method} on ${n} samples in ${tAfter.toFixed(2)} s${typeof s.acceptance === 'number' ? `, acceptance ${(s.acceptance as number).toFixed(3)}` : ''}.`);
    document.body.dataset.done = method;
  } catch (e) {
    say(`${method} failed: ${explain(e)}`, true);
  } finally {
    runButton.disabled = false;
  }
});

$<HTMLButtonElement>('download-png').addEventListener('click', () => {
  if (!shownPng) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([shownPng.slice()], { type: 'image/png' }));
  a.download = `${methodSelect.value}-before-after.png`;
  a.click();
});

downloadButton.addEventListener('click', () => {
  if (!refined) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([encodeNpy(refined).slice()], { type: 'application/octet-stream' }));
  a.download = `${methodSelect.value}-samples.npy`;
  a.click();
});
