/**
 * Policies as code: YAML files of rules, each a CEL expression over a model version
 * (`metrics`, `params`, `tags`, `card`, `approvals`, `name`, `risk_tier`). Files come from the open
 * workspace's `.atelier/policies/` and the data dir's `policies/`. A file that does not parse, a
 * rule with a missing field, or an expression that does not parse or type-check is reported with
 * its file, line and reason; such a rule is shown as an error and counts as failing (fail closed).
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { celEnv, CelScalar, isCelError, mapType, parse as parseCel, plan } from '@bufbuild/cel'
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode, type YAMLMap } from 'yaml'
import {
  RISK_TIERS,
  type PolicyEvaluation,
  type PolicyFileError,
  type PolicyList,
  type PolicyResult,
  type PolicyRule,
  type PolicyState,
  type RiskTier
} from '../../../shared/registry'

/** What an expression sees. */
export interface PolicySubject {
  name: string
  version: number
  riskTier: RiskTier | null
  metrics: Record<string, number>
  params: Record<string, string>
  tags: Record<string, string>
  /** Card fields by their snake_case names (intended_use, owner, risk_tier…). */
  card: Record<string, string>
  approvals: number
}

const VARIABLES = {
  metrics: mapType(CelScalar.STRING, CelScalar.DOUBLE),
  params: mapType(CelScalar.STRING, CelScalar.STRING),
  tags: mapType(CelScalar.STRING, CelScalar.STRING),
  card: mapType(CelScalar.STRING, CelScalar.STRING),
  approvals: CelScalar.INT,
  name: CelScalar.STRING,
  version: CelScalar.INT,
  risk_tier: CelScalar.STRING
} as const
const env = celEnv({ variables: VARIABLES })

type Compiled = { rule: PolicyRule; run: ((s: PolicySubject) => unknown) | null }

/** Reads the policy folders; re-reads a file only when its size or mtime changed. */
export class PolicyEngine {
  private cache = new Map<string, { stamp: string; rules: Compiled[]; errors: PolicyFileError[]; text: string }>()

  constructor(private readonly dirs: () => string[]) {}

  list(): PolicyList & { compiled: Compiled[]; setHash: string } {
    const rules: Compiled[] = []
    const errors: PolicyFileError[] = []
    const hash = createHash('sha256')
    const sources: string[] = []
    for (const dir of this.dirs()) {
      sources.push(dir)
      if (!existsSync(dir)) continue
      let names: string[]
      try {
        names = readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n)).sort()
      } catch {
        continue
      }
      for (const n of names) {
        const file = join(dir, n)
        const got = this.load(file)
        if (!got) continue
        rules.push(...got.rules)
        errors.push(...got.errors)
        hash.update(file).update('\0').update(got.text).update('\0')
      }
    }
    return { rules: rules.map((c) => c.rule), errors, sources, compiled: rules, setHash: hash.digest('hex') }
  }

  private load(file: string) {
    let st
    try {
      st = statSync(file)
    } catch {
      return null
    }
    if (!st.isFile()) return null
    const stamp = `${st.size}:${st.mtimeMs}`
    const hit = this.cache.get(file)
    if (hit && hit.stamp === stamp) return hit
    const text = readFileSync(file, 'utf8')
    const got = { stamp, text, ...compileFile(file, text) }
    this.cache.set(file, got)
    return got
  }

  /** Evaluates every rule in scope for the subject. */
  evaluate(subject: PolicySubject, now = Date.now()): PolicyEvaluation {
    const { compiled, errors } = this.list()
    const results: PolicyResult[] = []
    for (const { rule, run } of compiled) {
      const base = { ruleId: rule.id, name: rule.name, file: rule.file, line: rule.line, severity: rule.severity, message: rule.message }
      if (rule.error || !run) {
        results.push({ ...base, outcome: 'error', error: rule.error ?? 'the rule cannot be evaluated' })
        continue
      }
      if (!inScope(rule, subject)) {
        results.push({ ...base, outcome: 'skipped', error: null })
        continue
      }
      let value: unknown
      try {
        value = run(subject)
      } catch (err) {
        value = { celError: (err as Error).message }
      }
      if (value === true) results.push({ ...base, outcome: 'pass', error: null })
      else if (value === false) results.push({ ...base, outcome: 'fail', error: null })
      else {
        // a runtime error (e.g. the metric is missing) is a failure of the rule, reported with why
        const why = isCelError(value) ? value.message : (value as { celError?: string })?.celError ?? `the expression gave ${String(value)}, not a bool`
        results.push({ ...base, outcome: 'fail', error: why })
      }
    }
    const blocking: string[] = []
    const warnings: string[] = []
    for (const r of results) {
      if (r.outcome === 'fail') (r.severity === 'block' ? blocking : warnings).push(`${r.name}: ${r.message}${r.error ? ` (${r.error})` : ''}`)
      if (r.outcome === 'error') blocking.push(`${r.name} (${r.file}:${r.line}) cannot be evaluated: ${r.error}`)
    }
    for (const e of errors) blocking.push(`${e.file}:${e.line}: ${e.reason}`)
    const state: PolicyState = results.some((r) => r.outcome === 'error') || errors.length ? 'error' : blocking.length ? 'block' : warnings.length ? 'warn' : 'pass'
    return { state, results, blocking, warnings, fileErrors: errors, evaluatedAt: now }
  }
}

function inScope(rule: PolicyRule, s: PolicySubject): boolean {
  if (!globToRegExp(rule.scope.models).test(s.name)) return false
  if (rule.scope.riskTiers && !(s.riskTier && rule.scope.riskTiers.includes(s.riskTier))) return false
  return true
}

export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (const ch of glob) {
    if (ch === '*') re += '.*'
    else if (ch === '?') re += '.'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** Parses one file into rules (each compiled or carrying its error) and whole-file errors. */
export function compileFile(file: string, text: string): { rules: Compiled[]; errors: PolicyFileError[] } {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false })
  const lineOf = (node: YamlNode | null | undefined, fallback = 1) => (node?.range ? lc.linePos(node.range[0]).line : fallback)
  if (doc.errors.length) {
    const e = doc.errors[0]
    return { rules: [], errors: [{ file, line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, reason: `YAML: ${e.message.split('\n')[0]}` }] }
  }
  const root = doc.contents
  let list: YamlNode | null | undefined = root as YamlNode
  if (isMap(root)) list = root.get('rules', true) as YamlNode | undefined
  if (root === null || root === undefined) return { rules: [], errors: [] }
  if (!isSeq(list)) return { rules: [], errors: [{ file, line: lineOf(root as YamlNode), reason: 'expected a list of rules (or a map with `rules:`)' }] }
  const rules: Compiled[] = []
  const seen = new Set<string>()
  list.items.forEach((item, i) => {
    const line = lineOf(item as YamlNode)
    const node = isMap(item) ? (item as YAMLMap) : null
    // `expr: true` reads as a YAML bool: an expression is its source text whatever the scalar type
    const get = (k: string) => {
      const val = node?.get(k)
      return k === 'expr' && (typeof val === 'boolean' || typeof val === 'number') ? String(val) : val
    }
    const name = typeof get('name') === 'string' && get('name') ? String(get('name')) : `rule ${i + 1}`
    const rule: PolicyRule = {
      id: `${file}#${name}`,
      name,
      file,
      line,
      scope: { models: '*', riskTiers: null },
      expr: typeof get('expr') === 'string' ? String(get('expr')) : '',
      severity: 'block',
      message: typeof get('message') === 'string' ? String(get('message')) : '',
      error: null
    }
    const fail = (reason: string, at: YamlNode | null | undefined = item as YamlNode) => {
      rule.error = reason
      rule.line = lineOf(at, line)
      rules.push({ rule, run: null })
    }
    if (!node) return fail('a rule must be a map with name, expr, severity and message')
    if (seen.has(name)) return fail(`duplicate rule name '${name}' in this file`, node.get('name', true) as YamlNode)
    seen.add(name)
    for (const k of ['name', 'expr', 'message']) {
      if (typeof get(k) !== 'string' || String(get(k)).trim() === '') return fail(`'${k}' is required (a non-empty string)`)
    }
    const severity = get('severity') ?? 'block'
    if (severity !== 'block' && severity !== 'warn') return fail(`severity must be block or warn, not '${String(severity)}'`, node.get('severity', true) as YamlNode)
    rule.severity = severity
    const scope = get('scope') as unknown
    if (scope !== undefined) {
      const sj = (scope as { toJSON?: () => unknown })?.toJSON?.() as { models?: unknown; risk_tiers?: unknown } | undefined
      if (!sj || typeof sj !== 'object' || Array.isArray(sj)) return fail('scope must be a map with models and/or risk_tiers', node.get('scope', true) as YamlNode)
      if (sj.models !== undefined) {
        if (typeof sj.models !== 'string' || sj.models === '') return fail('scope.models must be a model-name glob such as "fraud-*"', node.get('scope', true) as YamlNode)
        rule.scope.models = sj.models
      }
      if (sj.risk_tiers !== undefined) {
        const tiers = sj.risk_tiers
        if (!Array.isArray(tiers) || tiers.some((t) => !RISK_TIERS.includes(t as RiskTier))) {
          return fail(`scope.risk_tiers must be a list of ${RISK_TIERS.join(', ')}`, node.get('scope', true) as YamlNode)
        }
        rule.scope.riskTiers = tiers as RiskTier[]
      }
    }
    const exprNode = node.get('expr', true) as YamlNode
    try {
      const run = compileExpr(rule.expr)
      rules.push({ rule, run })
    } catch (err) {
      fail((err as Error).message, exprNode)
    }
  })
  return { rules, errors: [] }
}

// ---------- CEL: parse, type-check, plan ----------

type T = { k: 'int' | 'uint' | 'double' | 'string' | 'bool' | 'null' | 'bytes' | 'dyn' | 'list' | 'map' | 'type'; v?: T }
const dyn: T = { k: 'dyn' }
const SCALAR: Record<string, T> = {
  int: { k: 'int' },
  uint: { k: 'uint' },
  double: { k: 'double' },
  string: { k: 'string' },
  bool: { k: 'bool' },
  bytes: { k: 'bytes' }
}
const VAR_TYPES: Record<string, T> = {
  metrics: { k: 'map', v: SCALAR.double },
  params: { k: 'map', v: SCALAR.string },
  tags: { k: 'map', v: SCALAR.string },
  card: { k: 'map', v: SCALAR.string },
  approvals: SCALAR.int,
  name: SCALAR.string,
  version: SCALAR.int,
  risk_tier: SCALAR.string
}
const show = (t: T): string => (t.k === 'map' ? `map(string, ${show(t.v!)})` : t.k === 'list' ? `list(${t.v ? show(t.v) : 'dyn'})` : t.k)
const numeric = (t: T) => t.k === 'int' || t.k === 'uint' || t.k === 'double'
const isDyn = (t: T) => t.k === 'dyn'

class TypeError_ extends Error {}

/**
 * A static check of the expression against the declared variables: unknown names, field access on
 * non-maps, operators applied to the wrong types and a result that is not a bool are reported
 * before the rule is ever run (the evaluator's own checker is not public).
 */
function typeOf(e: any): T {
  const kind = e?.exprKind?.case
  const v = e?.exprKind?.value
  switch (kind) {
    case 'constExpr': {
      const c = v.constantKind?.case
      if (c === 'int64Value') return SCALAR.int
      if (c === 'uint64Value') return SCALAR.uint
      if (c === 'doubleValue') return SCALAR.double
      if (c === 'stringValue') return SCALAR.string
      if (c === 'boolValue') return SCALAR.bool
      if (c === 'bytesValue') return SCALAR.bytes
      return { k: 'null' }
    }
    case 'identExpr': {
      const t = VAR_TYPES[v.name]
      if (!t) throw new TypeError_(`undeclared reference to '${v.name}' (known: ${Object.keys(VAR_TYPES).join(', ')})`)
      return t
    }
    case 'selectExpr': {
      const o = typeOf(v.operand)
      if (v.testOnly) {
        if (o.k !== 'map' && !isDyn(o)) throw new TypeError_(`has() needs a map field, found ${show(o)}`)
        return SCALAR.bool
      }
      if (o.k === 'map') return o.v!
      if (isDyn(o)) return dyn
      throw new TypeError_(`type '${show(o)}' does not support field selection ('.${v.field}')`)
    }
    case 'listExpr': {
      const els = (v.elements as any[]).map(typeOf)
      return { k: 'list', v: els.length && els.every((t) => t.k === els[0].k) ? els[0] : dyn }
    }
    case 'structExpr':
      return { k: 'map', v: dyn }
    case 'comprehensionExpr':
      return dyn
    case 'callExpr':
      return callType(v.function as string, v.target ? typeOf(v.target) : null, (v.args as any[]).map(typeOf))
    default:
      throw new TypeError_(`unsupported expression (${String(kind)})`)
  }
}

function callType(fn: string, target: T | null, args: T[]): T {
  const sig = () => `(${args.map(show).join(', ')})`
  const noOverload = (): never => {
    throw new TypeError_(`found no matching overload for '${fn}' applied to '${sig()}'`)
  }
  const comparable = (a: T, b: T) => isDyn(a) || isDyn(b) || (numeric(a) && numeric(b)) || a.k === b.k
  switch (fn) {
    case '_&&_':
    case '_||_':
      if (!args.every((a) => a.k === 'bool' || isDyn(a))) noOverload()
      return SCALAR.bool
    case '!_':
      if (!(args[0].k === 'bool' || isDyn(args[0]))) noOverload()
      return SCALAR.bool
    case '_==_':
    case '_!=_':
      if (!(comparable(args[0], args[1]) || args[0].k === 'null' || args[1].k === 'null')) noOverload()
      return SCALAR.bool
    case '_<_':
    case '_<=_':
    case '_>_':
    case '_>=_':
      if (!comparable(args[0], args[1]) || ['map', 'list', 'null', 'bool'].includes(args[0].k) && !isDyn(args[0])) {
        if (!(args[0].k === 'bool' && args[1].k === 'bool')) noOverload()
      }
      return SCALAR.bool
    case '_+_':
    case '_-_':
    case '_*_':
    case '_/_':
    case '_%_': {
      const [a, b] = args
      if (isDyn(a) || isDyn(b)) return isDyn(a) ? b : a
      if (a.k !== b.k) noOverload()
      if (fn === '_+_' && ['int', 'uint', 'double', 'string', 'list', 'bytes'].includes(a.k)) return a
      if (fn !== '_+_' && numeric(a) && !(fn === '_%_' && a.k === 'double')) return a
      return noOverload()
    }
    case '-_':
      if (!(numeric(args[0]) || isDyn(args[0]))) noOverload()
      return args[0]
    case '_?_:_':
      if (!(args[0].k === 'bool' || isDyn(args[0]))) noOverload()
      return args[1].k === args[2].k ? args[1] : dyn
    case '@in':
      if (!(args[1].k === 'map' || args[1].k === 'list' || isDyn(args[1]))) noOverload()
      return SCALAR.bool
    case '_[_]':
      if (args[0].k === 'map' || args[0].k === 'list') return args[0].v ?? dyn
      if (isDyn(args[0])) return dyn
      return noOverload()
    case 'size':
      return SCALAR.int
    case 'int':
    case 'uint':
    case 'double':
    case 'string':
    case 'bool':
    case 'bytes':
      return SCALAR[fn]
    case 'type':
      return { k: 'type' }
    case 'dyn':
      return dyn
    case 'contains':
    case 'startsWith':
    case 'endsWith':
    case 'matches':
      if (target && !(target.k === 'string' || isDyn(target))) noOverload()
      return SCALAR.bool
    case 'lowerAscii':
    case 'upperAscii':
    case 'trim':
      return SCALAR.string
    default:
      throw new TypeError_(`undeclared function '${fn}'`)
  }
}

/** Parses, type-checks (must give a bool) and plans an expression; throws with the reason. */
export function compileExpr(src: string): (s: PolicySubject) => unknown {
  let parsed
  try {
    parsed = parseCel(src)
  } catch (err) {
    throw new Error(`CEL syntax error: ${(err as Error).message.replace(/^<input>:/, 'at ')}`)
  }
  let t: T
  try {
    t = typeOf(parsed.expr)
  } catch (err) {
    if (err instanceof TypeError_) throw new Error(`CEL type error: ${err.message}`)
    throw err
  }
  if (t.k !== 'bool' && !isDyn(t)) throw new Error(`CEL type error: the expression must give a bool, not ${show(t)}`)
  const fn = plan(env, parsed)
  return (s) =>
    fn({
      metrics: new Map(Object.entries(s.metrics)),
      params: new Map(Object.entries(s.params)),
      tags: new Map(Object.entries(s.tags)),
      card: new Map(Object.entries(s.card)),
      approvals: BigInt(s.approvals),
      name: s.name,
      version: BigInt(s.version),
      risk_tier: s.riskTier ?? ''
    } as never)
}

