/**
 * `npm run bench:lake`: the lake service through `serve` and its WebSocket, against DuckDB called
 * directly in this process, on the same files in the same run. Prints `name: value` lines.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { DuckDBInstance, JsonDuckDBValueConverter } from '@duckdb/node-api'
import WebSocket from 'ws'
import { spawnServe } from '../src/main/testing/serveProcess'
import { unpackReply } from '../src/shared/binaryFrame'
import { decodeArrowPage } from '../src/shared/arrowPage'

const ROOT = resolve(__dirname, '../..')
const FLIGHTS = join(ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet')
const DATA = join(ROOT, '.bench-data')
const BIG = join(DATA, 'flights-30m.parquet')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100)
/** BENCH_LOAD=N: N busy processes spin for the whole measurement, the same load on both sides. */
const LOAD = Number(process.env.BENCH_LOAD ?? 0)

const AGG = `select origin, destination, count(*) n, avg(delay) d, max(distance) m from flights group by 1, 2 order by n desc`

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const fmt = (ms: number) => ms.toFixed(1)

/** The middle half of a set of ratios (25th to 75th percentile): how much one run's rounds disagree. */
function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b)
  return `${s[Math.floor(s.length / 4)].toFixed(3)}–${s[Math.floor((3 * s.length) / 4)].toFixed(3)}`
}

function shuffled<T>(xs: T[]): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}
const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)

/** Decodes an Arrow page and reads every cell, as a client showing all of it would; returns its row count. */
function readPage(page: { arrow?: Uint8Array; rowCount: number }): number {
  if (!page.arrow) return page.rowCount
  const d = decodeArrowPage(page.arrow)
  for (const c of d.columns) for (let i = 0; i < d.rowCount; i++) c.get(i)
  return d.rowCount
}

async function ensureBigFile(): Promise<void> {
  if (existsSync(BIG)) return
  mkdirSync(DATA, { recursive: true })
  const inst = await DuckDBInstance.create(':memory:')
  const c = await inst.connect()
  const t = performance.now()
  await c.run(`COPY (SELECT f.* FROM read_parquet('${FLIGHTS}') f, range(10)) TO '${BIG}.tmp' (FORMAT parquet)`)
  renameSync(`${BIG}.tmp`, BIG)
  console.error(`bench: wrote ${BIG} (30,000,000 rows) in ${fmt(performance.now() - t)} ms`)
  c.closeSync()
  inst.closeSync()
}

class Client {
  private next = 1
  private pending = new Map<number, (m: any) => void>()
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d, isBinary) => {
      // pages asked for as Arrow come back as binary frames
      const m: any = isBinary ? unpackReply(d as Buffer) : JSON.parse(String(d))
      if (typeof m.id === 'number') {
        this.pending.get(m.id)?.(m)
        this.pending.delete(m.id)
      }
    })
  }
  call(method: string, params: unknown): Promise<any> {
    const id = this.next++
    return new Promise((res, rej) => {
      this.pending.set(id, (m) => (m.error ? rej(new Error(m.error.message)) : res(m.result)))
      this.ws.send(JSON.stringify({ id, method, params }))
    })
  }
}

async function startServe(workspace: string, dataDir: string) {
  const { url, proc } = await spawnServe({ root: ROOT, token: 'bench', dataDir, workspace, inheritStderr: true })
  const u = new URL(url)
  const ws = new WebSocket(`ws://${u.host}/api/ws?token=bench`)
  await new Promise((r) => ws.on('open', r))
  return { proc, client: new Client(ws) }
}

function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

async function main() {
  await ensureBigFile()
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-bench-'))
  const { proc, client } = await startServe(join(tmp, 'ws'), join(tmp, 'data'))
  await client.call('lake.sources.add', { kind: 'file', location: FLIGHTS, name: 'flights' })
  await client.call('lake.sources.add', { kind: 'file', location: BIG, name: 'flights30m' })

  const burners: ChildProcess[] = Array.from({ length: LOAD }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
  process.on('exit', () => burners.forEach((b) => b.kill('SIGKILL')))
  line('load_busy_processes', LOAD)
  line('baseline', 'DuckDB in this process, set up as the lake sets it up (Parquet metadata cache on), reading the same values: the aggregate as JSON columns, the first 1,000 rows as JSON values')
  line('ratios', 'median of each round\'s own service/DuckDB ratio; the order within a round varies')

  const direct = await DuckDBInstance.create(':memory:')
  const dc = await direct.connect()
  // the DuckDB setting the lake makes, so that the ratios measure what Atelier adds, not configuration
  await dc.run('SET GLOBAL parquet_metadata_cache = true')
  await dc.run(`CREATE VIEW flights AS SELECT * FROM read_parquet('${FLIGHTS}')`)
  await dc.run(`CREATE VIEW flights30m AS SELECT * FROM read_parquet('${BIG}')`)

  // 1. Aggregate: whole result through service + WebSocket vs DuckDB directly (rows converted to JSON both ways).
  let qn = 0
  const viaService = async (sql: string) => {
    const id = `b${++qn}`
    const t = performance.now()
    const r = await client.call('lake.query', { queryId: id, sql, pageSize: 10_000, format: 'arrow' })
    const rows = readPage(r.first)
    const ms = performance.now() - t
    await client.call('lake.close', { queryId: id })
    return { ms, rows, engineMs: r.elapsedMs as number }
  }
  const viaDirect = async (sql: string) => {
    const t = performance.now()
    const reader = await dc.runAndReadAll(sql)
    const cols = reader.getColumnsJson()
    return { ms: performance.now() - t, rows: cols[0].length }
  }
  // DuckDB's streaming API, the only one that can read a result of any size (the service's): the
  // same values converted to JSON, for the part of the gap that is streaming rather than transport
  const viaDirectStream = async (sql: string) => {
    const t = performance.now()
    const res = await dc.stream(sql)
    let rows = 0
    for (;;) {
      const chunk = await res.fetchChunk()
      if (!chunk || chunk.rowCount === 0) break
      chunk.convertColumns(JsonDuckDBValueConverter)
      rows += chunk.rowCount
    }
    return { ms: performance.now() - t, rows }
  }
  await viaService(AGG)
  await viaDirect(AGG)
  await viaDirectStream(AGG)
  const aggS: number[] = []
  const aggEngine: number[] = []
  const aggD: number[] = []
  const aggDS: number[] = []
  // Each round runs the three in a random order (whichever runs right after another process's work
  // pays for it), and a ratio is the median of the rounds' own ratios.
  const pairD: number[] = []
  const pairDS: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    let s = 0
    let d = 0
    let ds = 0
    for (const which of shuffled(['direct', 'streaming', 'service'])) {
      if (which === 'direct') d = (await viaDirect(AGG)).ms
      else if (which === 'streaming') ds = (await viaDirectStream(AGG)).ms
      else {
        const r = await viaService(AGG)
        s = r.ms
        aggEngine.push(r.engineMs)
      }
    }
    aggS.push(s)
    aggD.push(d)
    aggDS.push(ds)
    pairD.push(s / d)
    pairDS.push(s / ds)
  }
  if (process.env.BENCH_DEBUG) {
    const tiny: number[] = []
    const info: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      tiny.push((await viaService('select 1')).ms)
      const t = performance.now()
      await client.call('app.info', {})
      info.push(performance.now() - t)
    }
    line('debug_select1_service_ms', fmt(median(tiny)))
    line('debug_app_info_roundtrip_ms', fmt(median(info)))
    // the query's own time inside serve (start until the last row was read), before encoding and sending
    line('debug_aggregate_engine_in_serve_ms', fmt(median(aggEngine)))
  }
  line('aggregate_rows', (await viaDirect(AGG)).rows)
  line('aggregate_direct_ms', fmt(median(aggD)))
  line('aggregate_service_ms', fmt(median(aggS)))
  line('aggregate_ratio', median(pairD).toFixed(3))
  line('aggregate_ratio_middle_half', spread(pairD))
  line('aggregate_direct_streaming_ms', fmt(median(aggDS)))
  line('aggregate_ratio_vs_streaming', median(pairDS).toFixed(3))
  line('aggregate_ratio_vs_streaming_middle_half', spread(pairDS))

  // 2. First 1,000 rows of SELECT * over 30M rows.
  // Both sides materialise the same 1,000 rows: the baseline converts exactly those (not the rest
  // of DuckDB's 2,048-row chunk), Atelier encodes them, sends them and the bench reads every cell.
  const firstDirect = async () => {
    const t = performance.now()
    const res = await dc.stream('SELECT * FROM flights30m')
    let rows = 0
    while (rows < 1000) {
      const chunk = await res.fetchChunk()
      if (!chunk || chunk.rowCount === 0) break
      const take = Math.min(chunk.rowCount, 1000 - rows)
      for (let c = 0; c < chunk.columnCount; c++) {
        const v = chunk.getColumnVector(c)
        for (let r = 0; r < take; r++) JsonDuckDBValueConverter(v.getItem(r), v.type, JsonDuckDBValueConverter)
      }
      rows += take
    }
    return performance.now() - t
  }
  // with BENCH_DEBUG: serve's time until its first page was ready, and this side's decode of it
  const firstServer: number[] = []
  const firstDecode: number[] = []
  const firstService = async () => {
    const id = `f${++qn}`
    const t = performance.now()
    const r = await client.call('lake.query', { queryId: id, sql: 'SELECT * FROM flights30m', pageSize: 1000, format: 'arrow' })
    const received = performance.now()
    const rows = readPage(r.first)
    const ms = performance.now() - t
    firstServer.push(r.elapsedMs)
    firstDecode.push(performance.now() - received)
    if (rows !== 1000) throw new Error('expected 1000 rows')
    await client.call('lake.cancel', { queryId: id })
    await client.call('lake.close', { queryId: id })
    return ms
  }
  await firstDirect()
  await firstService()
  const fD: number[] = []
  const fS: number[] = []
  const pairF: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    let d = 0
    let s = 0
    for (const which of shuffled(['direct', 'service'])) {
      if (which === 'direct') d = await firstDirect()
      else s = await firstService()
    }
    fD.push(d)
    fS.push(s)
    pairF.push(s / d)
  }
  if (process.env.BENCH_DEBUG) {
    line('debug_first_1000_in_serve_ms', fmt(median(firstServer)))
    line('debug_first_1000_client_decode_ms', fmt(median(firstDecode)))
  }
  line('first_1000_rows_30m_direct_ms', fmt(median(fD)))
  line('first_1000_rows_30m_service_ms', fmt(median(fS)))
  line('first_1000_rows_30m_ratio', median(pairF).toFixed(3))
  line('first_1000_rows_30m_ratio_middle_half', spread(pairF))

  // 3. Page through the whole 30M-row result; peak memory of the serving process.
  if (process.env.BENCH_SKIP_PAGING) return shutdown()
  const rssBefore = procStatus(proc.pid!, 'VmRSS')
  const t0 = performance.now()
  const started = await client.call('lake.query', { queryId: 'all', sql: 'SELECT * FROM flights30m', pageSize: 1000, format: 'arrow' })
  const PAGE = 10_000
  let offset = 0
  let total: number | null = null
  let pages = 0
  let checksum = 0
  while (total === null || offset < total) {
    const p = await client.call('lake.page', { queryId: 'all', offset, limit: PAGE, format: 'arrow' })
    readPage(p)
    if (p.rowCount === 0 && p.totalRows !== null && offset >= p.totalRows) break
    checksum += p.rowCount
    offset += p.rowCount
    total = p.totalRows
    pages++
  }
  const pagingMs = performance.now() - t0
  line('paged_rows', checksum)
  line('paged_pages', pages)
  line('first_page_rows', started.first.rowCount)
  line('paging_total_s', (pagingMs / 1000).toFixed(1))
  line('paging_rows_per_s', Math.round(checksum / (pagingMs / 1000)))
  line('serve_rss_before_mib', (rssBefore / 2 ** 20).toFixed(0))
  line('serve_peak_rss_mib', (procStatus(proc.pid!, 'VmHWM') / 2 ** 20).toFixed(0))
  line('serve_peak_rss_under_1_5_gib', procStatus(proc.pid!, 'VmHWM') < 1.5 * 2 ** 30 ? 'yes' : 'no')
  return shutdown()

  async function shutdown() {
    for (const b of burners) b.kill('SIGKILL')
    client.ws.close()
    proc.kill('SIGTERM')
    await new Promise((r) => proc.on('exit', r))
    dc.closeSync()
    direct.closeSync()
    rmSync(tmp, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
