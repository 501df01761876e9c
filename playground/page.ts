// The playground page: load a pair (files or drag and drop), pick a method and its options (the
// registry's ids, flags and defaults, as the CLI shows them), refine in the page and compare.
// Loaded by main.ts once onnxruntime-web is installed.
import {
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type CalibrationReport,
  DATASET_NAMES,
  encodeNpy,
  getDataset,
  imagePanelsPng,
  METHOD_IDS,
  METHOD_INFO,
  metaJson,
  type MethodId,
  type ModelPair,
  type RefineProgress,
  modeMetrics,
  pairFromBytes,
  RefineryError,
  Rng,
  refine,
  sample,
  scatterPng,
  trainMlpInMemory,
  type TrainProgress,
} from '../src/browser.js';


const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const methodSelect = $<HTMLSelectElement>('method');
const optionsBox = $('options');
const runButton = $<HTMLButtonElement>('run');
const downloadButton = $<HTMLButtonElement>('download');
let pair: ModelPair | undefined;
let refined: { data: Float32Array; shape: number[] } | undefined;

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

/** Held-out real samples drawn from the pair's dataset (its own stream), or undefined. */
function heldOutReal(seed: number): { data: Float32Array; shape: number[] } | undefined {
  const ds = pairDataset();
  if (!ds) return undefined;
  const m = 2000;
  return { data: ds.sample(m, new Rng(seed, 0x7265616c)), shape: [m, 2] };
}

/** Methods and calibration that need real samples are offered only when the pair has a dataset. */
function updateAvailability(): void {
  const hasReal = pairDataset() !== undefined;
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
    for (const v of [name, d.spiegelhalterZ.toFixed(2), d.logLoss.toFixed(4), d.accuracy.toFixed(3)]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
  $('calibration').hidden = false;
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
  runButton.disabled = true;
  $('metrics').hidden = true;
  $('calibration').hidden = true;
  $('plot').hidden = true;
  $('metrics').querySelector('tbody')!.replaceChildren();
  try {
    say('Sampling the generator…');
    let t = performance.now();
    const before = await sample(pair, { n, seed });
    const tBefore = (performance.now() - t) / 1000;
    say(`Refining with ${method}…`);
    t = performance.now();
    const real = heldOutReal(seed);
    const calibrate = calibrateSelect.value as CalibrationMethod;
    const r = await refine(pair, {
      method,
      n,
      seed,
      ...readOptions(),
      ...(real ? { real } : {}),
      ...(calibrate !== 'none' ? { calibrate } : {}),
      onProgress: (p: RefineProgress) => say(`${p.stage}: ${Math.round((100 * p.done) / p.total)}%`) } as never);
    const tAfter = (performance.now() - t) / 1000;
    refined = r.samples as { data: Float32Array; shape: number[] };
    downloadButton.disabled = false;
    const name = pair.meta.dataset;
    const is2d = pair.meta.dataShape.length === 1 && pair.meta.dataShape[0] === 2;
    if (is2d) {
      const ds = name && (DATASET_NAMES as readonly string[]).includes(name) ? getDataset(name) : undefined;
      const panels = [
        { title: 'generator', points: before.samples.data as Float32Array },
        { title: method, points: refined.data },
      ];
      if (ds) {
        const mb = modeMetrics(before.samples.data as Float32Array, ds);
        const ma = modeMetrics(refined.data, ds);
        addRow('generator', `${mb.recoveredModes} of ${mb.numModes}`, mb.highQualityPercent.toFixed(1), tBefore);
        addRow(method, `${ma.recoveredModes} of ${ma.numModes}`, ma.highQualityPercent.toFixed(1), tAfter);
        panels[0].title += `: ${mb.highQualityPercent.toFixed(1)}%`;
        panels[1].title += `: ${ma.highQualityPercent.toFixed(1)}%`;
        $('metrics').hidden = false;
      }
      const png = scatterPng(panels, ds ? { bounds: ds.bounds, markers: ds.modes, columns: 2, size: 360 } : { bounds: boundsOf(panels), columns: 2, size: 360 });
      const img = $<HTMLImageElement>('plot');
      img.src = URL.createObjectURL(new Blob([png.slice()], { type: 'image/png' }));
      img.hidden = false;
    }
    if (pair.meta.dataShape.length === 3) {
      const shown = Math.min(n, 64);
      const rows = (t: { data: Float32Array | Float64Array }) => Float32Array.from(t.data.subarray(0, shown * (t.data.length / n)));
      const shape = [shown, ...pair.meta.dataShape];
      const png = imagePanelsPng(
        [
          { title: 'generator', data: rows(before.samples as { data: Float32Array }), shape },
          { title: method, data: rows(refined), shape },
        ],
        { range: pair.meta.outputRange ?? [-1, 1] },
      );
      const img = $<HTMLImageElement>('plot');
      img.src = URL.createObjectURL(new Blob([png.slice()], { type: 'image/png' }));
      img.hidden = false;
    }
    if (r.calibration) showCalibration(r.calibration);
    const s = r.summary as Record<string, unknown>;
    say(`Done: ${method} on ${n} samples in ${tAfter.toFixed(2)} s${typeof s.acceptance === 'number' ? `, acceptance ${(s.acceptance as number).toFixed(3)}` : ''}.`);
    document.body.dataset.done = method;
  } catch (e) {
    say(`${method} failed: ${explain(e)}`, true);
  } finally {
    runButton.disabled = false;
  }
});

downloadButton.addEventListener('click', () => {
  if (!refined) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([encodeNpy(refined).slice()], { type: 'application/octet-stream' }));
  a.download = `${methodSelect.value}-samples.npy`;
  a.click();
});
