// The playground's entry: install onnxruntime-web, then load the page. onnxruntime-web's
// threads are workers that load this same script; they must not run the page (no document).
import * as ort from 'onnxruntime-web';
import { useOnnxRuntime } from '../src/browser.js';

useOnnxRuntime(ort);
if (typeof document !== 'undefined') await import('./page.js');
