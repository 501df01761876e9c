// The Refinery playground: a static page over src/browser.ts and onnxruntime-web.
// `npm run playground` serves it; `vite build` writes playground/dist.
import { defineConfig } from 'vite';

// Cross-origin isolation (SharedArrayBuffer) lets onnxruntime-web run multithreaded.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: __dirname,
  base: './',
  // No modulepreload polyfill: onnxruntime-web's thread workers load the entry script, and the
  // polyfill reads `document`.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', modulePreload: { polyfill: false } },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
});
