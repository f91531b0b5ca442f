import { expect, type Locator, type Page } from '@playwright/test'

/** Locators and steps shared by the Jobs room e2e specs. */

export const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name, exact: true })
export const jobsGrid = (page: Page) => page.getByRole('grid', { name: 'Jobs' })
export const detail = (page: Page, name: string) => page.getByRole('region', { name: `Job ${name}`, exact: true })

/** Opens the submit form from the Jobs room. */
export async function openSubmit(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'New job' }).click()
  const dialog = page.getByRole('dialog', { name: 'Submit job' })
  await expect(dialog).toBeVisible()
  return dialog
}
