/** Checks of a nomination before it is saved (the server checks again). */
export function checkNomination(f: { category?: string; nominee_name?: string; household_id?: string | null; deeds?: string; source?: string }): string[] {
  const bad: string[] = []
  if (!f.category) bad.push('category')
  const name = (f.nominee_name || '').trim()
  if (!name || name.length > 50) bad.push('nominee_name')
  if (f.category === 'best_family' && !f.household_id) bad.push('household_id')
  const deeds = (f.deeds || '').trim()
  if (!deeds || deeds.length > 5000) bad.push('deeds')
  if (!f.source) bad.push('source')
  return bad
}

/** The notice period as the person reads it, and whether it is over (approval allowed after it). */
export function noticeStatus(n: Record<string, any>, today: string) {
  if (n.state !== 'public_notice' || !n.notice_ends_on) return { active: false, over: false, paused: !!n.paused }
  return { active: n.notice_ends_on >= today, over: n.notice_ends_on < today, paused: !!n.paused }
}
