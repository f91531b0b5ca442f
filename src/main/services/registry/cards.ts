/**
 * Model cards (Markdown fields and a risk tier per version; frozen as a published snapshot with its
 * content hash on approval; exported as Markdown or HTML) and the review checklist.
 */
import { createHash } from 'node:crypto'
import type { Principal } from '../../../shared/auth'
import { AppError } from '../../../shared/errors'
import {
  MODEL_CARD_FIELDS,
  MODEL_CARD_LABELS,
  type CardExport,
  type Checklist,
  type ModelCard,
  type ModelCardField,
  type ModelCardInput,
  type PublishedCard,
  type RiskTier
} from '../../../shared/registry'
import { canonicalJson } from '../audit/AuditLog'
import type { RegistryService } from './RegistryService'
import { ref, type VersionRow } from './store'

type Fields = Record<ModelCardField, string>

const emptyFields = (): Fields => Object.fromEntries(MODEL_CARD_FIELDS.map((f) => [f, ''])) as Fields

/** `intendedUse` → `intended_use`: how policies name card fields. */
const snake = (f: string) => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

export function metricsMarkdown(metrics: Record<string, number>): string {
  const keys = Object.keys(metrics).sort()
  if (keys.length === 0) return ''
  return ['| Metric | Value |', '| --- | --- |', ...keys.map((k) => `| ${k.replace(/\|/g, '\\|')} | ${formatNumber(metrics[k])} |`)].join('\n')
}

const formatNumber = (n: number) => (Number.isInteger(n) ? String(n) : Number(n.toPrecision(6)).toString())

export class CardService {
  constructor(private readonly r: RegistryService) {}

  private row(versionId: number) {
    return this.r.d.db.prepare('SELECT * FROM model_cards WHERE version_id = ?').get(versionId) as
      | { fields: string; updated_at: number; updated_by_id: string; updated_by_name: string }
      | undefined
  }

  /** The card's fields: saved ones, else empty with `evaluation` filled from the run's metrics. */
  fieldsOf(v: VersionRow): Fields {
    const row = this.row(v.id)
    if (row) return { ...emptyFields(), ...(JSON.parse(row.fields) as Partial<Fields>) }
    const metrics = v.run_id ? (this.r.store.runMetrics([v.run_id]).get(v.run_id) ?? {}) : {}
    return { ...emptyFields(), evaluation: metricsMarkdown(metrics) }
  }

  published(versionId: number): PublishedCard | null {
    const s = this.r.d.db.prepare('SELECT * FROM model_card_snapshots WHERE version_id = ? ORDER BY id DESC LIMIT 1').get(versionId) as
      | { published_at: number; content: string; content_hash: string }
      | undefined
    if (!s) return null
    const c = JSON.parse(s.content) as { fields: Fields; riskTier: RiskTier | null }
    return { publishedAt: s.published_at, contentHash: s.content_hash, fields: c.fields, riskTier: c.riskTier }
  }

  cardOf(v: VersionRow): ModelCard {
    const row = this.row(v.id)
    const metrics = v.run_id ? (this.r.store.runMetrics([v.run_id]).get(v.run_id) ?? {}) : {}
    return {
      name: v.name,
      version: v.version,
      fields: this.fieldsOf(v),
      riskTier: v.risk_tier,
      updatedAt: row?.updated_at ?? null,
      updatedBy: row ? { id: row.updated_by_id, name: row.updated_by_name } : null,
      revision: v.revision,
      published: this.published(v.id),
      suggestedEvaluation: metricsMarkdown(metrics)
    }
  }

  async get(name: string, version: number): Promise<ModelCard> {
    return this.cardOf(this.r.store.version(name, version))
  }

  /**
   * Saves the given fields (others keep their value). The risk tier cannot change while a review is
   * pending: it decides how many reviewers must approve.
   */
  async save(name: string, version: number, input: ModelCardInput, actor: Principal, expectedRevision?: number): Promise<ModelCard> {
    return this.r.tx((changed) => {
      const v = this.r.store.version(name, version)
      if (input.riskTier !== undefined && input.riskTier !== v.risk_tier && v.approval_status === 'PendingManualApproval') {
        throw new AppError('INVALID_STATE', `The risk tier of version ${version} cannot change while its review is pending.`, { field: 'riskTier' })
      }
      this.r.touch(v, expectedRevision)
      const before = this.fieldsOf(v)
      const after: Fields = { ...before }
      for (const f of MODEL_CARD_FIELDS) if (input[f] !== undefined) after[f] = input[f]!
      const now = this.r.now()
      this.r.d.db
        .prepare(
          `INSERT INTO model_cards (version_id, fields, updated_at, updated_by_id, updated_by_name) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (version_id) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at,
             updated_by_id = excluded.updated_by_id, updated_by_name = excluded.updated_by_name`
        )
        .run(v.id, JSON.stringify(after), now, actor.id, actor.name)
      if (input.riskTier !== undefined) this.r.d.db.prepare('UPDATE model_versions SET risk_tier = ? WHERE id = ?').run(input.riskTier, v.id)
      const diffBefore: Record<string, unknown> = {}
      const diffAfter: Record<string, unknown> = {}
      for (const f of MODEL_CARD_FIELDS) {
        if (before[f] !== after[f]) {
          diffBefore[f] = before[f]
          diffAfter[f] = after[f]
        }
      }
      if (input.riskTier !== undefined && input.riskTier !== v.risk_tier) {
        diffBefore.riskTier = v.risk_tier
        diffAfter.riskTier = input.riskTier
      }
      this.r.audit({ actor: ref(actor), action: 'card.save', entityType: 'card', entity: this.r.versionEntity(v), before: diffBefore, after: diffAfter })
      changed({ kind: 'card', name, version, action: 'card.save' })
      return this.cardOf(this.r.store.versionById(v.id))
    })
  }

  /** Freezes the current card (inside the approval's transaction); returns the snapshot's hash. */
  publishInTx(v: VersionRow): string {
    const content = canonicalJson({ name: v.name, version: v.version, fields: this.fieldsOf(v), riskTier: v.risk_tier })
    const hash = createHash('sha256').update(content).digest('hex')
    this.r.d.db.prepare('INSERT INTO model_card_snapshots (version_id, published_at, content, content_hash) VALUES (?, ?, ?, ?)').run(v.id, this.r.now(), content, hash)
    return hash
  }

  /** For policies: the card's fields by snake_case name, plus `risk_tier`. */
  subjectCard(v: VersionRow): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, val] of Object.entries(this.fieldsOf(v))) out[snake(k)] = val
    out.risk_tier = v.risk_tier ?? ''
    return out
  }

  async export(name: string, version: number, format: 'markdown' | 'html', draft: boolean): Promise<CardExport> {
    const v = this.r.store.version(name, version)
    const pub = draft ? null : this.published(v.id)
    const fields = pub ? pub.fields : this.fieldsOf(v)
    const tier = pub ? pub.riskTier : v.risk_tier
    const title = `Model card: ${name} version ${version}`
    const status = pub ? `Published ${new Date(pub.publishedAt).toISOString()} (sha256 ${pub.contentHash})` : 'Draft (not published)'
    const base = `${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-v${version}-model-card`
    if (format === 'markdown') {
      const parts = [`# ${title}`, '', `_${status}_`, '', `**Risk tier:** ${tier ?? 'not set'}`, '']
      for (const f of MODEL_CARD_FIELDS) parts.push(`## ${MODEL_CARD_LABELS[f]}`, '', fields[f].trim() || '_Not provided._', '')
      return { fileName: `${base}.md`, mimeType: 'text/markdown', content: parts.join('\n'), contentHash: pub?.contentHash ?? null }
    }
    const sections = MODEL_CARD_FIELDS.map((f) => `<section><h2>${esc(MODEL_CARD_LABELS[f])}</h2>${fields[f].trim() ? markdownToHtml(fields[f]) : '<p><em>Not provided.</em></p>'}</section>`)
    const content = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1f2328}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 8px}code{background:#f6f8fa;padding:0 3px}</style>
</head><body><h1>${esc(title)}</h1><p><em>${esc(status)}</em></p><p><strong>Risk tier:</strong> ${esc(tier ?? 'not set')}</p>
${sections.join('\n')}
</body></html>
`
    return { fileName: `${base}.html`, mimeType: 'text/html', content, contentHash: pub?.contentHash ?? null }
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function inline(s: string): string {
  return esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*]+)\*/g, '$1<em>$2</em>')
    .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2">$1</a>')
}

/** A small Markdown subset (headings, lists, tables, paragraphs, code, emphasis, links); everything is escaped. */
export function markdownToHtml(md: string): string {
  const out: string[] = []
  const lines = md.replace(/\r\n?/g, '\n').split('\n')
  let i = 0
  while (i < lines.length) {
    const line = lines[i]
    if (line.trim() === '') {
      i++
      continue
    }
    if (line.startsWith('```')) {
      const code: string[] = []
      i++
      while (i < lines.length && !lines[i].startsWith('```')) code.push(lines[i++])
      i++
      out.push(`<pre><code>${esc(code.join('\n'))}</code></pre>`)
      continue
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line)
    if (h) {
      const level = Math.min(6, h[1].length + 2)
      out.push(`<h${level}>${inline(h[2])}</h${level}>`)
      i++
      continue
    }
    if (/^\s*[-*]\s+/.test(line)) {
      const items: string[] = []
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) items.push(`<li>${inline(lines[i++].replace(/^\s*[-*]\s+/, ''))}</li>`)
      out.push(`<ul>${items.join('')}</ul>`)
      continue
    }
    if (line.trim().startsWith('|') && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) {
      const cells = (l: string) => l.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => inline(c.trim().replace(/\\\|/g, '|')))
      const head = cells(line)
      i += 2
      const body: string[] = []
      while (i < lines.length && lines[i].trim().startsWith('|')) body.push(`<tr>${cells(lines[i++]).map((c) => `<td>${c}</td>`).join('')}</tr>`)
      out.push(`<table><thead><tr>${head.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`)
      continue
    }
    const para: string[] = []
    while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|```|\s*[-*]\s)/.test(lines[i])) para.push(lines[i++])
    out.push(`<p>${inline(para.join(' '))}</p>`)
  }
  return out.join('\n')
}

export class ChecklistService {
  constructor(private readonly r: RegistryService) {}

  items(): { id: string; label: string }[] {
    return this.r.d.db.prepare('SELECT id, label FROM review_checklist_items ORDER BY position, id').all() as { id: string; label: string }[]
  }

  of(v: VersionRow): Checklist {
    const ticks = new Map(
      (
        this.r.d.db.prepare('SELECT item_id, checked_by_id, checked_by_name, checked_at FROM review_checklist_ticks WHERE version_id = ?').all(v.id) as {
          item_id: string
          checked_by_id: string
          checked_by_name: string
          checked_at: number
        }[]
      ).map((t) => [t.item_id, t])
    )
    return {
      name: v.name,
      version: v.version,
      items: this.items().map((it) => {
        const t = ticks.get(it.id)
        return { id: it.id, label: it.label, checked: !!t, checkedBy: t ? { id: t.checked_by_id, name: t.checked_by_name } : null, checkedAt: t?.checked_at ?? null }
      })
    }
  }

  get(name: string, version: number): Checklist {
    return this.of(this.r.store.version(name, version))
  }

  set(name: string, version: number, itemId: string, checked: boolean, actor: Principal): Checklist {
    return this.r.tx((changed) => {
      const v = this.r.store.version(name, version)
      if (!this.items().some((i) => i.id === itemId)) throw new AppError('NOT_FOUND', `No checklist item '${itemId}'`, { itemId })
      const was = !!this.r.d.db.prepare('SELECT 1 FROM review_checklist_ticks WHERE version_id = ? AND item_id = ?').get(v.id, itemId)
      if (was !== checked) {
        if (checked) {
          this.r.d.db
            .prepare('INSERT INTO review_checklist_ticks (version_id, item_id, checked_by_id, checked_by_name, checked_at) VALUES (?, ?, ?, ?, ?)')
            .run(v.id, itemId, actor.id, actor.name, this.r.now())
        } else this.r.d.db.prepare('DELETE FROM review_checklist_ticks WHERE version_id = ? AND item_id = ?').run(v.id, itemId)
        this.r.audit({ actor: ref(actor), action: checked ? 'checklist.tick' : 'checklist.untick', entityType: 'checklist', entity: `${this.r.versionEntity(v)}#${itemId}`, before: { checked: was }, after: { checked } })
        changed({ kind: 'checklist', name, version, action: checked ? 'checklist.tick' : 'checklist.untick' })
      }
      return this.of(v)
    })
  }

  configure(items: { id?: string; label: string }[], actor: Principal): { items: { id: string; label: string }[] } {
    return this.r.tx((changed) => {
      const before = this.items()
      const used = new Set<string>()
      const next = items.map((it) => {
        let id = it.id ?? (it.label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'item')
        if (used.has(id)) {
          if (it.id) throw new AppError('INVALID_REQUEST', `Duplicate checklist item id '${id}'`, { field: 'items' })
          let n = 2
          while (used.has(`${id}-${n}`)) n++
          id = `${id}-${n}`
        }
        used.add(id)
        return { id, label: it.label.trim() }
      })
      this.r.d.db.prepare('DELETE FROM review_checklist_items').run()
      const put = this.r.d.db.prepare('INSERT INTO review_checklist_items (id, label, position) VALUES (?, ?, ?)')
      next.forEach((it, i) => put.run(it.id, it.label, i))
      this.r.audit({ actor: ref(actor), action: 'checklist.configure', entityType: 'checklist', entity: 'checklist', before: { items: before }, after: { items: next } })
      changed({ kind: 'checklist', name: null, version: null, action: 'checklist.configure' })
      return { items: next }
    })
  }
}
