// Panopticon v0.4.5's own Rally adapter (`src/lib/tracker/rally.ts` + `rally-api.ts`), for the
// bench's comparison column. Nothing of it is in this repository: when the bundle is present
// (`../shared/panopticon/panopticon-v0.4.5.bundle`, or PANOPTICON_BUNDLE), it is cloned into a
// temporary directory at run time and its three tracker files are transpiled with TypeScript's
// `transpileModule` (types erased, nothing else changed). Absent, the column is skipped.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib.mjs';

const FILES = ['rally.ts', 'rally-api.ts', 'interface.ts'];

function bundlePath() {
  const candidates = [process.env.PANOPTICON_BUNDLE, path.join(ROOT, '../shared/panopticon/panopticon-v0.4.5.bundle'),
    '/work/shared/panopticon/panopticon-v0.4.5.bundle'].filter(Boolean);
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** The directory holding the transpiled adapter (`rally.js`), or null with the reason. */
export function preparePanopticonTs() {
  const bundle = bundlePath();
  if (!bundle) return { dir: null, why: 'the Panopticon v0.4.5 bundle is not present' };
  let ts;
  try {
    ts = createRequire(import.meta.url)('typescript');
  } catch {
    return { dir: null, why: 'typescript is not installed' };
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pano-ts-'));
  // Removed when the bench exits: nothing of Panopticon stays behind.
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const clone = path.join(tmp, 'src');
  const r = spawnSync('git', ['clone', '-q', bundle, clone], { encoding: 'utf8' });
  if (r.status !== 0) return { dir: null, why: `git clone failed: ${r.stderr}` };
  const out = path.join(tmp, 'js');
  spawnSync('mkdir', ['-p', out]);
  writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
  for (const f of FILES) {
    const src = readFileSync(path.join(clone, 'src/lib/tracker', f), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(path.join(out, f.replace(/\.ts$/, '.js')), js);
  }
  return { dir: out, why: null };
}
