/**
 * Domain events: a small typed bus in the core. Services publish what happened (after the change
 * is committed) and others subscribe instead of calling each other. A listener that throws is
 * logged; it never undoes the change nor stops other listeners.
 */
import type { PrincipalRef } from '../shared/registry'
import type { Logger } from './log'

export interface DomainEvents {
  /** A version entered Approved (a real transition, never a re-save of an Approved version). */
  'model_version.approved': { name: string; version: number; approvers: PrincipalRef[]; byPolicy: boolean; at: number }
  /** An alias now points at another version (`to` null: removed). */
  'alias.moved': { name: string; alias: string; from: number | null; to: number | null; actor: PrincipalRef; at: number }
}
export type DomainEventName = keyof DomainEvents

export class DomainEventBus {
  private readonly listeners = new Map<DomainEventName, Set<(p: never) => void>>()

  constructor(private readonly log?: Logger) {}

  on<E extends DomainEventName>(event: E, listener: (payload: DomainEvents[E]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as (p: never) => void)
    return () => set!.delete(listener as (p: never) => void)
  }

  emit<E extends DomainEventName>(event: E, payload: DomainEvents[E]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) {
      try {
        ;(l as (p: DomainEvents[E]) => void)(payload)
      } catch (err) {
        this.log?.error(`domain event ${event}: a listener failed`, err)
      }
    }
  }
}
