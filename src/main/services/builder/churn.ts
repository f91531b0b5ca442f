/** A schema-faithful bank-churn table with a known signal (tests, e2e and the benchmark generate it). */
import { writeFileSync } from 'node:fs'

function rng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SURNAMES = ['Smith', 'Jones', 'Li', 'Garcia', 'Khan', 'Müller', 'Rossi', 'Dubois', 'Nowak', 'Silva', 'Ivanov', 'Chen']

/**
 * Columns: RowNumber, CustomerId, Surname, CreditScore, Geography, Gender, Age, Tenure, Balance,
 * NumOfProducts, HasCrCard, IsActiveMember, EstimatedSalary, Exited. Exited depends on Age,
 * Geography (Germany), Gender, IsActiveMember, NumOfProducts and Balance; the rest is noise.
 */
export function churnCsv(rows = 10_000, seed = 7): string {
  const r = rng(seed)
  const normal = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r())
  const lines = ['RowNumber,CustomerId,Surname,CreditScore,Geography,Gender,Age,Tenure,Balance,NumOfProducts,HasCrCard,IsActiveMember,EstimatedSalary,Exited']
  for (let i = 0; i < rows; i++) {
    const geo = r() < 0.5 ? 'France' : r() < 0.5 ? 'Germany' : 'Spain'
    const gender = r() < 0.55 ? 'Male' : 'Female'
    const age = Math.max(18, Math.min(92, Math.round(39 + 10 * normal())))
    const balance = r() < 0.35 ? 0 : Math.max(0, Math.round((100_000 + 40_000 * normal()) * 100) / 100)
    const products = r() < 0.5 ? 1 : r() < 0.85 ? 2 : r() < 0.8 ? 3 : 4
    const active = r() < 0.52 ? 1 : 0
    const credit = Math.max(350, Math.min(850, Math.round(650 + 95 * normal())))
    const z = -2.6 + 0.075 * (age - 40) + 0.8 * (geo === 'Germany' ? 1 : 0) + 0.5 * (gender === 'Female' ? 1 : 0) - 0.9 * active + 1.8 * (products >= 3 ? 1 : 0) - 0.4 * (products === 2 ? 1 : 0) + 0.000003 * balance
    const exited = r() < 1 / (1 + Math.exp(-z)) ? 1 : 0
    lines.push(
      [i + 1, 15_600_000 + i * 7 + Math.floor(r() * 7), SURNAMES[Math.floor(r() * SURNAMES.length)], credit, geo, gender, age, Math.floor(r() * 11), balance, products, r() < 0.7 ? 1 : 0, active, Math.round(r() * 199_990 * 100) / 100 + 10, exited].join(',')
    )
  }
  return lines.join('\n') + '\n'
}

export function writeChurnCsv(path: string, rows = 10_000, seed = 7): void {
  writeFileSync(path, churnCsv(rows, seed))
}
