// Regenerates src/api/openapi.d.ts from the server's OpenAPI document:
//   npm run gen:api            (runs `python -m cunzhi openapi` from the repo root)
//   npm run gen:api -- file.json   (from a saved document)
// PYTHON picks the interpreter (default: ../.venv/bin/python if present, else python3).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const out = path.resolve(here, '..', 'src', 'api', 'openapi.d.ts')
let docPath = process.argv[2]
if (!docPath) {
  const venv = path.join(root, '.venv', 'bin', 'python')
  const python = process.env.PYTHON || (fs.existsSync(venv) ? venv : 'python3')
  const json = execFileSync(python, ['-m', 'cunzhi', 'openapi'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  docPath = path.join(os.tmpdir(), `cunzhi-openapi-${process.pid}.json`)
  fs.writeFileSync(docPath, json)
}
const bin = path.resolve(here, '..', 'node_modules', '.bin', 'openapi-typescript')
execFileSync(bin, [docPath, '-o', out], { stdio: 'inherit' })
console.log(`wrote ${path.relative(process.cwd(), out)}`)
