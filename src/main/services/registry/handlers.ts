import type { Method } from '../../../shared/api'
import type { Handlers } from '../../rpc/router'
import type { AuditLog } from '../audit/AuditLog'
import type { RegistryService } from './RegistryService'
import type { SageMakerRegistry } from './sagemaker'

type RegistryMethod = Extract<Method, `registry.${string}` | `audit.${string}`>

/** The registry's and the audit trail's part of the handler table; who acts comes from the call context. */
export function registryHandlers(registry: RegistryService, audit: AuditLog, sagemaker: SageMakerRegistry): Pick<Handlers, RegistryMethod> {
  const ok = { ok: true } as const
  return {
    'registry.models.list': (p) => registry.listModels(p),
    'registry.models.get': ({ name }) => registry.getModel(name),
    'registry.models.create': (p, { principal }) => registry.createModel(p, principal),
    'registry.models.update': ({ name, description }, { principal }) => registry.updateModel(name, description, principal),
    'registry.models.rename': ({ name, newName }, { principal }) => registry.renameModel(name, newName, principal),
    'registry.models.delete': ({ name }, { principal }) => (registry.deleteModel(name, principal), ok),
    'registry.versions.list': (p) => registry.listVersions(p),
    'registry.versions.get': ({ name, version }) => registry.getVersion(name, version),
    'registry.versions.create': (p, { principal }) => registry.createVersionFromRun(p, principal),
    'registry.versions.update': ({ name, version, description, expectedRevision }, { principal }) =>
      registry.updateVersion(name, version, { description }, principal, expectedRevision),
    'registry.versions.delete': ({ name, version }, { principal }) => (registry.deleteVersion(name, version, principal), ok),
    'registry.alias.set': ({ name, version, alias }, { principal }) => registry.setAlias(name, alias, version, principal),
    'registry.alias.delete': ({ name, alias }, { principal }) => registry.deleteAlias(name, alias, principal),
    'registry.tags.set': ({ name, version, key, value }, { principal }) => (registry.setTag(name, version ?? null, key, value, principal), ok),
    'registry.tags.delete': ({ name, version, key }, { principal }) => (registry.deleteTag(name, version ?? null, key, principal), ok),
    'registry.card.get': ({ name, version }) => registry.cards.get(name, version),
    'registry.card.save': ({ name, version, card, expectedRevision }, { principal }) =>
      registry.cards.save(name, version, card, principal, expectedRevision),
    'registry.card.export': ({ name, version, format, draft }) => registry.cards.export(name, version, format, draft ?? false),
    'registry.review.request': ({ name, version, comment, expectedRevision }, { principal }) =>
      registry.reviews.request(name, version, principal, { comment, expectedRevision }),
    'registry.review.approve': ({ name, version, comment, moveAlias, expectedRevision }, { principal }) =>
      registry.reviews.approve(name, version, principal, { comment, moveAlias, expectedRevision }),
    'registry.review.reject': ({ name, version, comment, expectedRevision }, { principal }) =>
      registry.reviews.reject(name, version, principal, { comment, expectedRevision }),
    'registry.reviews.queue': ({ limit }) => registry.reviews.queue(limit),
    'registry.sagemaker.push': ({ name, version, target, group }, { principal }) => sagemaker.push({ name, version, target, group }, principal),
    'registry.sagemaker.packages': ({ name, version, refresh }) => sagemaker.packages({ name, version, refresh }),
    'registry.sagemaker.pending': ({ target }) => sagemaker.pending(target),
    'registry.sagemaker.review': (p, { principal }) => sagemaker.decide(p, principal),
    'registry.review.page': ({ name, version }, { principal }) => registry.reviews.page(name, version, principal),
    'registry.checklist.get': ({ name, version }) => registry.checklist.get(name, version),
    'registry.checklist.set': ({ name, version, itemId, checked }, { principal }) =>
      registry.checklist.set(name, version, itemId, checked, principal),
    'registry.checklist.configure': ({ items }, { principal }) => registry.checklist.configure(items, principal),
    'registry.policies.list': () => {
      const { rules, errors, sources } = registry.policies.list()
      return { rules, errors, sources }
    },
    'registry.policies.evaluate': ({ name, version }) => registry.reviews.evaluate(name, version),
    'registry.lineage': ({ name, version }) => registry.lineage(name, version),
    'registry.lineage.export': ({ name, version }) => registry.openLineage(name, version),
    'registry.compare': ({ a, b }) => registry.compare(a, b),
    'audit.list': (p) => audit.list(p),
    'audit.verify': () => audit.verify(),
    'audit.export': ({ format }) => audit.export(format)
  }
}
