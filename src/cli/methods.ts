/**
 * The method options of `refinery refine`, built from the registry: one flag per option key (a
 * flag shared by several methods, like --step-size, is registered once, its help listing each
 * method's meaning and default), parsed strictly by its declared type.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { RefineryError } from '../errors.js';
import { loadModel } from '../onnx/modelfile.js';
import type { MethodDefinition } from '../refine/method.js';
import { expectedText, type OptionSpec, parseOptionText } from '../refine/options.js';
import { METHODS, type MethodId } from '../refine/registry.js';

interface FlagInfo {
  flag: string;
  key: string;
  spec: OptionSpec;
  /** Methods reading the flag, with their description and default. */
  uses: { id: MethodId; description: string; default: unknown }[];
}

function fmtDefault(v: unknown): string {
  if (v === undefined || v === false) return '';
  if (v === Number.POSITIVE_INFINITY) return ' (default none)';
  return ` (default ${Array.isArray(v) ? v.join(',') : String(v)})`;
}

/** Every method flag, in registry order. */
export function methodFlags(): FlagInfo[] {
  const byKey = new Map<string, FlagInfo>();
  for (const def of Object.values(METHODS) as MethodDefinition<MethodId, object>[]) {
    for (const [key, spec] of Object.entries(def.options as Record<string, OptionSpec>)) {
      let f = byKey.get(key);
      if (!f) {
        f = { flag: spec.flag, key, spec, uses: [] };
        byKey.set(key, f);
      }
      f.uses.push({ id: def.id, description: spec.description, default: (def.defaults as Record<string, unknown>)[key] });
    }
  }
  return [...byKey.values()];
}

/** Help text of a flag: each distinct meaning and default, with the methods that read it so (`ids`: name them even if all read it alike). */
function helpText(f: FlagInfo, ids = true): string {
  const groups = new Map<string, string[]>();
  for (const u of f.uses) {
    const text = `${u.description}${fmtDefault(u.default)}`;
    const list = groups.get(text) ?? [];
    list.push(u.id);
    groups.set(text, list);
  }
  if (!ids && groups.size === 1) return [...groups.keys()][0];
  return [...groups.entries()].map(([text, methods]) => `${methods.join(', ')}: ${text}`).join('; ');
}

/** The parser of one flag's text. Models are loaded here, so a bad file is refused before any work. */
function parser(f: FlagInfo): (text: string) => unknown {
  return (text: string) => {
    if (f.spec.type.kind === 'model') {
      try {
        return loadModel(text);
      } catch (e) {
        if (e instanceof RefineryError)
          throw new RefineryError(
            e.code,
            e.issues.map((i) => ({ ...i, path: i.path === text ? `${f.flag} ${text}` : `${f.flag} ${i.path}` })),
          );
        throw e;
      }
    }
    try {
      return parseOptionText(f.spec.type, text, f.flag);
    } catch (e) {
      if (e instanceof RefineryError) throw new InvalidArgumentError(`expected ${expectedText(f.spec.type)}, received ${JSON.stringify(text)}`);
      throw e;
    }
  };
}

/** Register every method flag on `cmd`, or those of the keys `only` lists (their help then names no method where all read them alike). */
export function registerMethodOptions(cmd: Command, only?: readonly string[]): void {
  for (const f of methodFlags()) {
    if (only && !only.includes(f.key)) continue;
    if (f.spec.type.kind === 'boolean') {
      cmd.addOption(new Option(f.flag, helpText(f, !only)));
      cmd.addOption(new Option(`--no-${f.flag.slice(2)}`, `turn ${f.flag} off`).hideHelp());
    } else {
      const arg = { model: '<file.onnx>', range: '<lo,hi>', integer: '<n>', number: '<x>', choice: '<name>', numbers: '<x,y,...>', boolean: '' }[
        f.spec.type.kind
      ];
      cmd.addOption(new Option(`${f.flag} ${arg}`, helpText(f, !only)).argParser(parser(f)));
    }
  }
}

/**
 * The method options given on the command line, by key. A flag of another method is an error
 * naming it and the flags of the chosen method.
 */
export function givenMethodOptions(cmd: Command, method: MethodId): Record<string, unknown> {
  const def = METHODS[method] as MethodDefinition<MethodId, object>;
  const own = def.options as Record<string, OptionSpec>;
  const out: Record<string, unknown> = {};
  for (const f of methodFlags()) {
    if (cmd.getOptionValueSource(f.key) !== 'cli') continue;
    if (!(f.key in own)) {
      throw new RefineryError('invalid_argument', [
        {
          path: f.flag,
          expected: `an option of --method ${method} (${
            Object.values(own)
              .map((s) => s.flag)
              .join(', ') || 'none'
          })`,
          received: `${f.flag} given`,
        },
      ]);
    }
    out[f.key] = cmd.getOptionValue(f.key);
  }
  return out;
}
