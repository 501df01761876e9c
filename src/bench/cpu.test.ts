import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuInfo, parseCpuinfo } from './cpu.js';

// Two processors' entries as Linux prints them (trimmed): the first one is read.
const CPUINFO = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 sse4_1 sse4_2 fma avx avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
flags\t\t: fpu avx avx2 amx_tile
`;

test('parseCpuinfo reads the first processor: vendor, family, model number and the vector extensions in VECTOR_FLAGS order', () => {
  assert.deepEqual(parseCpuinfo(CPUINFO), {
    vendor: 'AuthenticAMD',
    family: 25,
    model_number: 17,
    vector_extensions: ['sse4_2', 'avx', 'fma', 'avx2', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16'],
  });
  // An AVX2-only machine lists no avx512 flag (the second entry's amx_tile is not read).
  const avx2 = parseCpuinfo(CPUINFO.replace(/ avx512\S*/g, ''));
  assert.deepEqual(avx2.vector_extensions, ['sse4_2', 'avx', 'fma', 'avx2']);
  assert.deepEqual(parseCpuinfo(''), { vendor: null, family: null, model_number: null, vector_extensions: [] });
});

test('cpuInfo describes this machine', () => {
  const c = cpuInfo();
  assert.ok(c.model.length > 0);
  if (process.platform === 'linux' && process.arch === 'x64') assert.ok(c.vector_extensions.includes('sse4_2'), JSON.stringify(c));
});
