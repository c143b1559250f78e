/**
 * A dispute incident becomes a mediation case in one tap: the new-case form opens prefilled from
 * the incident (source `patrol`, title, place, description, the household head as the first
 * party, `incident_id`). When the case syncs, the server links the incident to it (`case_id`)
 * and moves it to `handling` (records.md).
 */
import type { CunzhiDB } from '../../db'

export interface CasePrefill {
  incident_id: string
  title: string
  place: string
  description: string
  source: 'patrol'
  parties: { name: string; role: 'applicant'; phone: string; id_number: string; address?: string }[]
}

const masked = (v: unknown) => typeof v === 'string' && v.includes('*')

export async function casePrefill(db: CunzhiDB, incidentId: string): Promise<CasePrefill | null> {
  const inc = await db.records.get(`incident:${incidentId}`)
  if (!inc) return null
  const hh = inc.household_id ? await db.records.get(`household:${inc.household_id}`) : undefined
  const parties: CasePrefill['parties'] = []
  if (hh?.head_name) {
    // a masked value cannot be written back (the server would refuse it): leave it for the mediator
    parties.push({
      name: hh.head_name, role: 'applicant',
      phone: hh.phone && !masked(hh.phone) ? hh.phone : '',
      id_number: hh.head_id_number && !masked(hh.head_id_number) ? hh.head_id_number : '',
      address: hh.address || undefined,
    })
  }
  return {
    incident_id: incidentId, title: inc.title || '', place: inc.place || hh?.address || '',
    description: inc.description || '', source: 'patrol', parties,
  }
}
