// `npm run pack`: a tarball of the package that carries this machine's native binary, so it
// installs and runs where there is no Rust and no registry access for platform packages.
//
// Releases do it differently (napi-rs convention): each binary goes to its own platform
// package (npm/<platform>/), and `napi pre-publish` adds those to optionalDependencies at
// publish time. A local tarball has no registry to fetch them from, so here the `.node` file
// goes inside the main package instead; the generated loader (index.js) tries that file first.
//
// Usage: node scripts/pack.mjs [--no-build] [--out DIR]
//   --no-build  use the .node already built (npm test builds it just before)
//   --out DIR   where to write the tarball (default: the repository root)
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const outDir = args.includes('--out') ? resolve(args[args.indexOf('--out') + 1]) : root
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
// Node refuses to run .cmd files without a shell (CVE-2024-27980).
const shell = process.platform === 'win32'

/** The platform suffix the generated loader looks for (`linux-x64-gnu`, `darwin-arm64`, ...). */
export function hostSuffix() {
  const { platform, arch } = process
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  return `${platform}-${arch}`
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const binary = `${pkg.napi.binaryName}.${hostSuffix()}.node`

if (!args.includes('--no-build')) {
  execFileSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit', shell })
}
if (!existsSync(join(root, binary))) {
  console.error(`${binary} is missing: run \`npm run build\` first`)
  process.exit(1)
}

// Stage a copy so the committed package.json (what releases publish) stays as it is.
const stage = mkdtempSync(join(tmpdir(), 'panopticon-rally-pack-'))
try {
  for (const f of [...pkg.files, 'README.md', 'CHANGELOG.md', 'LICENSE']) {
    const from = join(root, f)
    if (existsSync(from)) cpSync(from, join(stage, f), { recursive: true })
  }
  copyFileSync(join(root, binary), join(stage, binary))
  const staged = { ...pkg, files: [...pkg.files, binary] }
  delete staged.devDependencies
  delete staged.scripts
  writeFileSync(join(stage, 'package.json'), JSON.stringify(staged, null, 2) + '\n')
  const out = execFileSync(npm, ['pack', '--json', '--silent'], { cwd: stage, encoding: 'utf8', shell })
  const [info] = JSON.parse(out)
  if (!info.files.some((f) => f.path === binary)) throw new Error(`${binary} is not in the tarball`)
  const tarball = join(outDir, info.filename)
  renameSync(join(stage, info.filename), tarball)
  const mb = (n) => (n / 1024 / 1024).toFixed(1) + ' MB'
  console.log(`${tarball}`)
  console.log(`  ${binary}: ${mb(statSync(join(root, binary)).size)}; tarball ${mb(info.size)}, ${info.entryCount} files`)
} finally {
  rmSync(stage, { recursive: true, force: true })
}
