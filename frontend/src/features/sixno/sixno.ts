/** Six-no (六无) reports on the device: the indicators, whether a report can be certified, the township's rate. */
export const SIX_NO_TARGET = 0.8

export interface Indicator {
  code: string
  status?: 'ok' | 'broken' | null
  incident_ids?: string[]
  evidence?: string | null
  attachment_ids?: string[]
}

/** The report's indicators in the county's order, each present (a new report starts with all of them). */
export function indicatorsOf(report: Record<string, any> | null | undefined, codes: string[]): Indicator[] {
  const have = new Map<string, Indicator>((report?.indicators || []).map((i: Indicator) => [i.code, i]))
  const out: Indicator[] = codes.map((code) => ({ status: 'ok' as const, incident_ids: [], evidence: '', attachment_ids: [], ...(have.get(code) || {}), code }))
  for (const [code, i] of have) if (!codes.includes(code)) out.push({ status: 'ok', incident_ids: [], evidence: '', attachment_ids: [], ...i, code })
  return out
}

export function brokenCount(indicators: Indicator[]): number {
  return indicators.filter((i) => i.status === 'broken').length
}

/** A report with a broken indicator cannot be certified (records.md). */
export function mayCertify(report: Record<string, any>): boolean {
  return ['self_assessed', 'reopened'].includes(report.state || '') && brokenCount(report.indicators || []) === 0
}

/** The indicators as the device writes them: only the village's part (evidence, photos); status and incident_ids are the server's. */
export function indicatorsToWrite(indicators: Indicator[]): Indicator[] {
  return indicators.map((i) => ({ code: i.code, evidence: i.evidence || '', attachment_ids: [...(i.attachment_ids || [])] }))
}

/** Villages certified for the year ÷ villages (the county plan's target: ≥ 80%). */
export function certifiedRate(villages: string[], reports: { org_code: string; year: number; state: string }[], year: number) {
  const certified = new Set(reports.filter((r) => Number(r.year) === year && r.state === 'township_certified').map((r) => r.org_code))
  const n = villages.filter((v) => certified.has(v)).length
  return { certified: n, total: villages.length, rate: villages.length ? n / villages.length : 0 }
}
