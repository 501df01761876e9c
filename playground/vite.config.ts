// The Refinery playground: a static page over src/browser.ts and onnxruntime-web.
// `npm run playground` serves it; `vite build` writes playground/dist.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Cross-origin isolation (SharedArrayBuffer) lets onnxruntime-web run multithreaded.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: __dirname,
  base: './',
  // No modulepreload polyfill: onnxruntime-web's thread workers load the entry script, and the
  // polyfill reads `document`.
  // Two pages: the playground, and the browser side of `npm run bench -- --browser`.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    rollupOptions: { input: { index: resolve(__dirname, 'index.html'), bench: resolve(__dirname, 'bench.html') } },
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
});
