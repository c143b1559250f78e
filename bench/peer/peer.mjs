// PouchDB 9 replicating to pouchdb-server (in memory), the peer Cunzhi's sync is measured against.
// Usage: node peer.mjs RECORDS.json → one JSON line: docs, push_s, pull_s, push_docs_per_s, pull_docs_per_s.
// The phone side is in memory (memdown). The server is in memory too (the figures are the replication protocol's,
// not a disk's) unless PEER_STORE=disk: then pouchdb-server keeps its default store, LevelDB files in a fresh
// directory, as a real deployment does.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import PouchDB from 'pouchdb-core'
import memory from 'pouchdb-adapter-memory'
import http from 'pouchdb-adapter-http'
import replication from 'pouchdb-replication'

PouchDB.plugin(memory).plugin(http).plugin(replication)
const require = createRequire(import.meta.url)

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitUp(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('pouchdb-server did not come up')
}

const batch = 500
const docs = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const port = await freePort()
const bin = require.resolve('pouchdb-server/bin/pouchdb-server')
const onDisk = process.env.PEER_STORE === 'disk'
const dir = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'pouchdb-server-'))
const server = spawn(process.execPath, [bin, ...(onDisk ? ['--dir', dir] : ['--in-memory']), '--port', String(port),
  '--host', '127.0.0.1', '--no-color'], { stdio: 'ignore', cwd: dir })
try {
  const base = `http://127.0.0.1:${port}`
  await waitUp(base + '/')
  const local = new PouchDB('peer-src', { adapter: 'memory' })
  await local.bulkDocs(docs) // the phone's local records (not timed)
  const remote = new PouchDB(`${base}/cases`)
  await remote.info()
  let t = performance.now()
  await local.replicate.to(remote, { batch_size: batch })
  const pushS = (performance.now() - t) / 1000
  const fresh = new PouchDB('peer-dst', { adapter: 'memory' })
  t = performance.now()
  await fresh.replicate.from(remote, { batch_size: batch })
  const pullS = (performance.now() - t) / 1000
  const got = (await fresh.info()).doc_count
  if (got !== docs.length) throw new Error(`pulled ${got} of ${docs.length}`)
  console.log(JSON.stringify({ docs: docs.length, push_s: pushS, pull_s: pullS,
    push_docs_per_s: docs.length / pushS, pull_docs_per_s: docs.length / pullS }))
} finally {
  server.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
