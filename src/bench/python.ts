/**
 * The Python the bench's reference computations run in: REFINERY_PYTHON first, then python3 on the
 * PATH, then Debian's /usr/bin/python3 (where `apt install python3-…` puts its modules, which a
 * python3 of pyenv or a virtual environment first on the PATH does not see).
 */
import { spawnSync } from 'node:child_process';

/** A Python that imports every module of `modules`, with the first one's `__version__`, or why there is none (`debian`: the packages that provide them). */
export function findPython(modules: string[], debian: string): { python: string; version: string } | { reason: string } {
  const candidates = [process.env.REFINERY_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', `import ${modules.join(', ')}; print(${modules[0]}.__version__)`], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return { reason: `no python with ${modules.join(', ')} among ${candidates.join(', ')} (Debian: apt install ${debian})` };
}
