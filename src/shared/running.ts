/**
 * The Running panel's part of the contract: every live thing Atelier owns or watches (Jupyter
 * servers, kernels, jobs, SSH tunnels, endpoints…), stop one or all idle ones, and idle policies.
 * `api.ts` spreads `runningRequests()` into its request table and merges the results and events.
 */
import { z } from 'zod'

export const RUNNING_KINDS = ['server', 'kernel', 'job', 'tunnel', 'endpoint'] as const
export type RunningKind = (typeof RUNNING_KINDS)[number]
const Kind = z.enum(RUNNING_KINDS)

export interface RunningItem {
  kind: RunningKind
  id: string
  name: string
  /** The owner's word for it: `idle`, `busy`, `running`, `queued`, `ready`… */
  state: string
  detail: string | null
  /** How long it has been idle; null while it works, or for things that are never idle (jobs). */
  idleMs: number | null
  /** Resident memory of its process tree, read from /proc; null where it cannot be measured (another host). */
  memoryBytes: number | null
  /** When its idle policy will stop it (a warning is out); null when no stop is pending. */
  stopAt: string | null
  /** What a cloud resource costs while it runs (USD per hour, from the shipped price tables); null for local things or unknown prices. */
  costPerHour?: number | null
  /** What it has cost since it started running (USD); null where not known. */
  costSoFar?: number | null
}

export const RunningPolicySchema = z
  .object({
    kind: Kind,
    /** Stop after this long idle; null: never. */
    idleSeconds: z.number().positive().max(30 * 24 * 3600).nullable(),
    /** Warn this long before the stop; any activity in between cancels it. */
    warnSeconds: z.number().min(0).max(24 * 3600)
  })
  .strict()
export type RunningPolicy = z.infer<typeof RunningPolicySchema>

export function runningRequests() {
  return {
    'running.list': z.object({}).strict(),
    'running.stop': z.object({ kind: Kind, id: z.string().min(1).max(300) }).strict(),
    /** Stops everything that is idle now. */
    'running.stopIdle': z.object({}).strict(),
    'running.policies.get': z.object({}).strict(),
    'running.policies.set': z.object({ policies: z.array(RunningPolicySchema).max(RUNNING_KINDS.length) }).strict()
  }
}

export interface RunningResults {
  'running.list': RunningItem[]
  'running.stop': { ok: true }
  'running.stopIdle': { stopped: { kind: RunningKind; id: string }[] }
  'running.policies.get': RunningPolicy[]
  'running.policies.set': RunningPolicy[]
}

export interface RunningWarning {
  kind: RunningKind
  id: string
  name: string
  /** When the stop will happen; null: activity cancelled it. */
  stopAt: string | null
}

export interface RunningEvents {
  /** An idle policy will stop something soon, or activity cancelled that. */
  'running.warning': RunningWarning
  /** An idle policy stopped something. */
  'running.stopped': { kind: RunningKind; id: string; name: string; reason: string }
}

export function runningEventNames() {
  return ['running.warning', 'running.stopped'] as const
}
