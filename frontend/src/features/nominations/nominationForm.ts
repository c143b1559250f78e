import { checkPhone } from '../../composables/checks'

/**
 * Checks of a nomination before it is saved, the server's own (nominations/entities.py, sync/fields.py): a
 * village (a township admin picks one of its villages), category, name, a household for 最美家庭, deeds, source,
 * a phone number in the form the server takes. Returns the wrong fields (names under `nom.f.*`).
 */
export function checkNomination(f: { org_code?: string | null; category?: string; nominee_name?: string; household_id?: string | null; deeds?: string; source?: string; nominee_phone?: string | null }): string[] {
  const bad: string[] = []
  if ('org_code' in f && !(f.org_code && f.org_code.length === 12)) bad.push('org_code')
  if (!f.category) bad.push('category')
  const name = (f.nominee_name || '').trim()
  if (!name || name.length > 50) bad.push('nominee_name')
  if (f.category === 'best_family' && !f.household_id) bad.push('household_id')
  const deeds = (f.deeds || '').trim()
  if (!deeds || deeds.length > 5000) bad.push('deeds')
  if (!f.source) bad.push('source')
  if (checkPhone(f.nominee_phone)) bad.push('nominee_phone')
  return bad
}

/** The village a new record belongs to: the signed-in village's own, else the one picked (township admins). */
export function villageFor(userOrg: string | null | undefined, picked: string | null | undefined, householdOrg?: string | null): string | null {
  if (householdOrg && householdOrg.length === 12) return householdOrg
  if (userOrg && userOrg.length === 12) return userOrg
  return picked && picked.length === 12 ? picked : null
}

/** Whether the person may still publish (公示) the nomination: no disqualifier recorded as true (records.md). */
export function disqualified(n: Record<string, any> | null | undefined): boolean {
  const d = n?.disqualifiers || {}
  return !!(d.criminal_record || d.vice || d.cult)
}

/** The notice period as the person reads it, and whether it is over (approval allowed after it). */
export function noticeStatus(n: Record<string, any>, today: string) {
  if (n.state !== 'public_notice' || !n.notice_ends_on) return { active: false, over: false, paused: !!n.paused }
  return { active: n.notice_ends_on >= today, over: n.notice_ends_on < today, paused: !!n.paused }
}
