/**
 * What each contract method needs, and what each role may do. The router checks
 * `methodPermissions[method]` against the caller's role before a handler runs, at every door; a new
 * method without an entry here does not typecheck.
 */
import type { Method } from './api'
import type { Role } from './auth'

/**
 * - read: look at data, runs, notebooks, jobs, models
 * - write: change things and run code (queries that write, kernels, jobs, tracking writes, register models, request review)
 * - review: approve or reject model versions
 * - admin: users, policies and everything else
 */
export type Permission = 'read' | 'write' | 'review' | 'admin'

export const rolePermissions: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  scientist: ['read', 'write'],
  reviewer: ['read', 'review'],
  admin: ['read', 'write', 'review', 'admin']
}

export function roleCan(role: Role, permission: Permission): boolean {
  return rolePermissions[role].includes(permission)
}

export const methodPermissions: Record<Method, Permission> = {
  'app.info': 'read',
  'workspace.open': 'write',
  'workspace.recent': 'read',
  'fs.list': 'read',
  'settings.get': 'read',
  'settings.set': 'write',
  'tabs.load': 'read',
  // the caller's own query tabs
  'tabs.save': 'read',
  'lake.sources.list': 'read',
  'lake.sources.add': 'write',
  'lake.sources.remove': 'write',
  'lake.sources.refresh': 'write',
  'lake.catalog': 'read',
  'lake.query': 'read',
  'lake.page': 'read',
  'lake.cancel': 'read',
  'lake.close': 'read',
  'lake.complete': 'read',
  'lake.profile': 'read',
  'lake.chart': 'read',
  'lake.export': 'write',
  'lake.history': 'read',
  // hands out a token that may write to the tracking store
  'tracking.connection': 'write',
  'tracking.experiments.list': 'read',
  'tracking.runs.search': 'read',
  'tracking.run.get': 'read',
  'tracking.run.delete': 'write',
  'tracking.run.restore': 'write',
  'tracking.run.setNote': 'write',
  'tracking.experiment.delete': 'write',
  'tracking.experiment.restore': 'write',
  'tracking.metrics.history': 'read',
  'tracking.artifacts.list': 'read',
  'tracking.artifacts.read': 'read',
  'kernels.interpreters': 'read',
  'kernels.selectInterpreter': 'write',
  'kernels.createVenv': 'write',
  'kernels.servers': 'read',
  'kernels.startLocal': 'write',
  'kernels.connect': 'write',
  'kernels.disconnect': 'write',
  'kernels.specs': 'read',
  'kernels.list': 'read',
  'kernels.start': 'write',
  'kernels.interrupt': 'write',
  'kernels.restart': 'write',
  'kernels.shutdown': 'write',
  'kernels.execute': 'write',
  // completion, inspection and the variable view ask the kernel, which runs code to answer
  'kernels.complete': 'write',
  'kernels.inspect': 'write',
  'kernels.inputReply': 'write',
  'kernels.fullOutput': 'read',
  'kernels.variables': 'write',
  'notebooks.open': 'read',
  'notebooks.save': 'write',
  'notebooks.create': 'write',
  'notebooks.list': 'read',
  'jobs.validate': 'read',
  'jobs.submit': 'write',
  'jobs.list': 'read',
  'jobs.get': 'read',
  'jobs.cancel': 'write',
  'jobs.logs': 'read',
  'jobs.targets.list': 'read',
  'jobs.targets.save': 'write',
  'jobs.targets.remove': 'write',
  'jobs.targets.test': 'write',
  'jobs.sweeps.submit': 'write',
  'jobs.sweeps.list': 'read',
  'jobs.sweeps.get': 'read',
  'jobs.sweeps.stop': 'write',
  'auth.whoami': 'read',
  'auth.users.list': 'admin',
  'auth.users.create': 'admin',
  'auth.users.setRole': 'admin',
  'auth.users.setDisabled': 'admin',
  'auth.tokens.list': 'read',
  'auth.tokens.create': 'read',
  'auth.tokens.revoke': 'read',
  'registry.models.list': 'read',
  'registry.models.get': 'read',
  'registry.models.create': 'write',
  'registry.models.update': 'write',
  'registry.models.rename': 'write',
  'registry.models.delete': 'write',
  'registry.versions.list': 'read',
  'registry.versions.get': 'read',
  'registry.versions.create': 'write',
  'registry.versions.update': 'write',
  'registry.versions.delete': 'write',
  'registry.alias.set': 'write',
  'registry.alias.delete': 'write',
  'registry.tags.set': 'write',
  'registry.tags.delete': 'write',
  'registry.card.get': 'read',
  'registry.card.save': 'write',
  'registry.card.export': 'read',
  'registry.review.request': 'write',
  'registry.review.approve': 'review',
  'registry.review.reject': 'review',
  'registry.reviews.queue': 'read',
  'registry.review.page': 'read',
  'registry.checklist.get': 'read',
  // reviewers tick the checklist while they review
  'registry.checklist.set': 'review',
  'registry.checklist.configure': 'admin',
  'registry.policies.list': 'read',
  'registry.policies.evaluate': 'read',
  'registry.lineage': 'read',
  'registry.lineage.export': 'read',
  'registry.compare': 'read',
  'audit.list': 'read',
  'audit.verify': 'read',
  'audit.export': 'admin',
  'builder.list': 'read',
  'builder.create': 'write',
  'builder.get': 'read',
  'builder.delete': 'write',
  'builder.update': 'write',
  'builder.columns': 'read',
  'builder.check': 'write',
  // training, explaining and scoring run Python in the user's interpreter
  'builder.start': 'write',
  'builder.cancel': 'write',
  'builder.details': 'write',
  'builder.bias': 'write',
  'builder.predict': 'write',
  'builder.batchPredict': 'write',
  'builder.register': 'write',
  'builder.notebook': 'write'
}
