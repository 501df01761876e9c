/** `refinery train-classifier`: an image classifier for evaluation in its feature space (FID, IS) and for DRE-F-SP features. */
import type { Command } from 'commander';
import { CLASSIFIER_DEFAULTS, trainClassifier } from '../train/classifier.js';
import { printResult, signal } from './common.js';
import { choiceArg, intArg, numberArg } from './parse.js';
import { progress } from './progress.js';

export function registerClassifier(program: Command): void {
  const D = CLASSIFIER_DEFAULTS;
  program
    .command('train-classifier')
    .description('train an image classifier; writes classifier.onnx (x -> logits), features.onnx (x -> features) and classifier.json')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--dataset <name>', 'mnist (its 8,000 training digits; 2,000 held out) or shapes28 (default mnist)', choiceArg(['mnist', 'shapes28'] as const))
    .option('--real-dir <dir>', 'a folder of PNG or JPEG images in one subfolder per class, instead of --dataset (a fifth is held out)')
    .option('--epochs <n>', `passes over the training images (default ${D.epochs})`, intArg(1))
    .option('--batch-size <n>', `batch size (default ${D.batchSize})`, intArg(1))
    .option(
      '--lr <x>',
      `Adam learning rate, decayed to 0 on a cosine (default ${D.lr})`,
      numberArg((x) => x > 0 && x < 1, 'a number in (0, 1)'),
    )
    .option('--width <n>', `channels of the first convolution (default ${D.width})`, intArg(1))
    .option('--features <n>', `width of the feature layer (default ${D.features})`, intArg(1))
    .option('--shift <n>', `largest random shift of a training image in pixels (default ${D.shift})`, intArg(0))
    .option('--seed <n>', 'random seed (default 0)', intArg())
    .option('--overwrite', 'write into an --out that holds an earlier classifier, replacing it (otherwise refused)', false)
    .option('--json', 'print the result as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts) => {
      const bar = progress('train-classifier', !opts.quiet);
      const r = await trainClassifier({
        out: opts.out,
        overwrite: opts.overwrite,
        dataset: opts.dataset,
        realDir: opts.realDir,
        epochs: opts.epochs,
        batchSize: opts.batchSize,
        lr: opts.lr,
        width: opts.width,
        features: opts.features,
        shift: opts.shift,
        seed: opts.seed,
        signal: signal(),
        onProgress: (p) => bar.update(p.epoch, p.epochs, `loss ${p.loss.toFixed(4)}`),
      }).finally(() => bar.stop());
      printResult(
        opts.json,
        r,
        `held-out accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.steps} steps, ${r.seconds.toFixed(0)} s); wrote ${r.files.classifier}, ${r.files.features}, ${r.files.meta}`,
      );
    });
}
