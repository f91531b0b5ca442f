import { test, expect, type Browser } from '@playwright/test'
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, startServe, type ServeHandle } from '../support'

let s: ServeHandle
test.beforeEach(async () => {
  s = await startServe()
})
test.afterEach(async () => {
  await s?.stop()
})

/** `npm run users -- …` against the serve's data dir; the password goes in on standard input. */
function users(args: string[], stdin = '') {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/users.mjs'), ...args, '--data-dir', s.dataDir], { input: stdin, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`users ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

async function signIn(browser: Browser, name: string, password: string) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(s.origin + '/')
  await expect(page.getByRole('heading', { name: 'Sign in to Atelier' })).toBeVisible()
  await page.getByRole('textbox', { name: 'User name' }).fill(name)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  return { context, page }
}

test('two users made with the CLI sign in from two browsers, see their role, and sign out', async ({ browser }) => {
  expect(users(['add', 'vera', '--role', 'viewer'], 'vera-password-1\n')).toContain('added vera (viewer)')
  expect(users(['add', 'sam', '--role', 'scientist'], 'sam-password-1\n')).toContain('added sam (scientist)')
  expect(users(['list'])).toMatch(/sam\tscientist\tactive[\s\S]*vera\tviewer\tactive/)

  // a wrong password is told, and the app stays closed
  const wrong = await signIn(browser, 'vera', 'not-her-password')
  await expect(wrong.page.getByRole('alert')).toHaveText('Wrong user name or password.')
  await wrong.context.close()

  const a = await signIn(browser, 'vera', 'vera-password-1')
  const b = await signIn(browser, 'sam', 'sam-password-1')
  const badgeA = a.page.getByRole('group', { name: 'Signed in user' })
  const badgeB = b.page.getByRole('group', { name: 'Signed in user' })
  await expect(badgeA).toContainText('vera')
  await expect(badgeA.getByLabel('Role')).toHaveText('viewer')
  await expect(badgeB).toContainText('sam')
  await expect(badgeB.getByLabel('Role')).toHaveText('scientist')
  // the page talks to the WebSocket with its cookie: the app loaded its info through it
  await expect(a.page.getByRole('main', { name: 'Data' })).toBeVisible()
  // what a viewer cannot do is not offered
  await expect(a.page.getByRole('button', { name: 'Open workspace' })).toHaveCount(0)
  await expect(b.page.getByRole('button', { name: 'Open workspace' })).toBeVisible()
  // and the server refuses it anyway
  const forbidden = await a.page.evaluate(async () => {
    const r = await fetch('/api/rpc', { method: 'POST', body: JSON.stringify({ method: 'settings.set', params: { key: 'x', value: 1 } }) })
    return r.status
  })
  expect(forbidden).toBe(403)

  mkdirSync(join(ROOT, 'out/screenshots'), { recursive: true })
  await a.page.screenshot({ path: join(ROOT, 'out/screenshots/auth-viewer.png') })
  await b.page.screenshot({ path: join(ROOT, 'out/screenshots/auth-scientist.png') })

  await badgeA.getByRole('button', { name: 'Sign out' }).click()
  await expect(a.page.getByRole('heading', { name: 'Sign in to Atelier' })).toBeVisible()
  await a.page.screenshot({ path: join(ROOT, 'out/screenshots/auth-login.png') })
  // the other browser is still signed in
  await b.page.reload()
  await expect(b.page.getByRole('group', { name: 'Signed in user' }).getByLabel('Role')).toHaveText('scientist')

  // disabling a user ends their session: the page goes back to the sign-in form
  users(['disable', 'sam'])
  await expect(b.page.getByRole('heading', { name: 'Sign in to Atelier' })).toBeVisible()
  users(['enable', 'sam'])

  // a personal API token from the CLI carries the user's role
  const token = users(['token', 'sam']).trim()
  expect(token).toMatch(/^atl_/)
  const who = await fetch(`${s.origin}/api/rpc`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: '{"method":"auth.whoami","params":{}}' })
  expect((await who.json()).result.principal).toMatchObject({ name: 'sam', role: 'scientist', via: 'api-token' })
  await a.context.close()
  await b.context.close()
})
