import { expect, test, type Page } from '@playwright/test'
import { startServe, type ServeHandle } from './support'

/**
 * For specs of the Experiments room: a fresh `serve` for each test, its MLflow REST API called as a
 * training script would call it, and the room opened on one experiment.
 */
export function trackingServe() {
  let current: ServeHandle | undefined
  test.beforeEach(async () => {
    current = await startServe()
  })
  test.afterEach(async () => {
    await current?.stop()
    current = undefined
  })
  const serve = (): ServeHandle => {
    if (!current) throw new Error('serve is started for each test: use it inside one')
    return current
  }

  /** POST to `/api/2.0/mlflow/<path>` with the token; anything but 200 fails the test. */
  async function mlflow<T = any>(path: string, body: unknown): Promise<T> {
    const s = serve()
    const r = await fetch(`${s.origin}/api/2.0/mlflow/${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    })
    expect(r.status, `${path}: ${r.status}`).toBe(200)
    return (await r.json()) as T
  }

  /** Loads the app, opens the Experiments room and picks the experiment whose name matches. */
  async function openExperiment(page: Page, name: RegExp): Promise<void> {
    await page.goto(serve().url)
    await page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Experiments' }).click()
    await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name }).click()
  }

  return { serve, mlflow, openExperiment }
}
