/** Reading a JSON file that Refinery wrote (a summary, a manifest, a checkpoint). */
import { readFileSync } from 'node:fs';
import { fail } from '../errors.js';

/**
 * The parsed contents of the JSON file `path`; a file that cannot be read or parsed is an
 * invalid_file error naming `path`, with what was `expected` and the reader's message.
 */
export function readJsonFile(path: string, expected: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return fail('invalid_file', path, expected, e instanceof Error ? e.message : String(e));
  }
}
