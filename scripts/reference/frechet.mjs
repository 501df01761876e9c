// Reference values of the Fréchet distance test (src/metrics/frechet.test.ts), computed with
// scipy the way pytorch-fid and torch-fidelity do (sqrtm of the product of the covariances):
//   npm run build && node scripts/reference/frechet.mjs   (REFINERY_PYTHON: a Python with numpy and scipy, default python3)
// writes the test's samples to a temporary folder as .npy and runs frechet.py on them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../dist/io/npyfile.js';
import { FRECHET_CASES, frechetCase } from '../../dist/testing/exact.js';

const dir = mkdtempSync(join(tmpdir(), 'refinery-frechet-'));
try {
  for (const [name, d, nReal, nFake] of FRECHET_CASES) {
    const { real, fake } = frechetCase(d, nReal, nFake);
    writeNpy(join(dir, `${name}-real.npy`), { data: real, shape: [nReal, d] });
    writeNpy(join(dir, `${name}-fake.npy`), { data: fake, shape: [nFake, d] });
    const out = execFileSync(process.env.REFINERY_PYTHON ?? 'python3', [join(import.meta.dirname, 'frechet.py'), join(dir, `${name}-real.npy`), join(dir, `${name}-fake.npy`)], { encoding: 'utf8' });
    process.stdout.write(`${name}: ${out}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
