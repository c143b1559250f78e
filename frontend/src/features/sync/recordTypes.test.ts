import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { RECORD_TYPES, changeKind, fieldLabel, fixFields, fromInput, recordTitle, showValue, toInput, type Names } from './recordTypes'
import { stateChoice } from './conflictSides'

// the message files as written (the i18n plugin turns imported ones into compiled messages)
const json = (name: string) => JSON.parse(readFileSync(new URL(`../../i18n/locales/${name}.json`, import.meta.url), 'utf8'))
const ZH: Record<string, any> = Object.assign({}, ...['zh-CN', 'dashboard.zh-CN', 'features.zh-CN', 'records.zh-CN'].map(json))
const EN: Record<string, any> = Object.assign({}, ...['en', 'dashboard.en', 'features.en', 'records.en'].map(json))

function lookup(messages: Record<string, any>, key: string): string | undefined {
  const v = key.split('.').reduce<any>((o, k) => (o && typeof o === 'object' ? o[k] : undefined), messages)
  return typeof v === 'string' ? v : undefined
}

const ORGS: Record<string, string> = { '340321108200': '万福村村民委员会', '340321108200001': '一组网格' }
const USERS: Record<string, string> = { 'u-adm': '张德明' }
const HOUSEHOLD = 'b6f0c1de-0000-4000-8000-000000000001'
const NOMINATION = '09547747-06ca-5e2f-a907-333e017d6e2f'
const RECORDS: Record<string, Record<string, any>> = {
  [`household:${HOUSEHOLD}`]: { id: HOUSEHOLD, head_name: '王建国' },
  [`nomination:${NOMINATION}`]: { id: NOMINATION, nominee_name: '郭淑珍', category: 'helping_others' },
  'mediation_case:c1': { id: 'c1', title: '宅基地边界纠纷' },
}

function names(messages: Record<string, any>): Names {
  const t = (key: string, p: Record<string, unknown> = {}) => (lookup(messages, key) ?? key).replace(/\{(\w+)\}/g, (_, k) => String(p[k]))
  return {
    t,
    org: (c) => (c ? ORGS[c] || c : ''),
    code: (table, c) => {
      if (!c) return ''
      const key = table === 'case_status' ? `status.${c}` : table === 'case_event_kind' ? `kinds.${c}` : `codes.${table}.${c}`
      return lookup(messages, key) ?? c
    },
    user: (id) => (id ? USERS[id] || '' : ''),
    record: (e, id) => (id ? RECORDS[`${e}:${id}`] : undefined),
  }
}
const zh = names(ZH)
const en = names(EN)

/** The wire fields of each record type (the entities.py of each backend package): every one has a label, none shows raw. */
const WIRE_FIELDS: Record<string, string[]> = {
  nomination: ['org_code', 'category', 'nominee_name', 'household_id', 'nominee_phone', 'nominee_id_number', 'deeds', 'source', 'nominator_name',
    'attachment_ids', 'state', 'disqualifiers', 'disqualifiers.criminal_record', 'disqualifiers.vice', 'disqualifiers.cult',
    'disqualifiers.checked_by', 'disqualifiers.checked_on', 'review_note', 'award_title', 'awarded_on', 'notice_starts_on', 'notice_ends_on', 'paused'],
  nomination_objection: ['org_code', 'nomination_id', 'content', 'objector_name', 'contact', 'state', 'decision_note'],
  six_no_report: ['org_code', 'year', 'indicators', 'indicators.0.code', 'indicators.0.status', 'indicators.0.incident_ids', 'indicators.0.evidence',
    'indicators.0.attachment_ids', 'self_assessment', 'state', 'decision_note'],
  points_entry: ['org_code', 'household_id', 'rule', 'points', 'reason', 'occurred_on', 'attachment_ids', 'reverses_id'],
  patrol: ['org_code', 'grid_code', 'state', 'started_at', 'ended_at', 'route', 'places_visited', 'checklist', 'checklist.0.item', 'checklist.0.ok',
    'checklist.0.note', 'notes', 'attachment_ids', 'distance_m', 'duration_s'],
  incident: ['org_code', 'grid_code', 'patrol_id', 'household_id', 'type', 'severity', 'title', 'description', 'place', 'location', 'occurred_at',
    'state', 'assignee_id', 'deadline', 'resolution', 'attachment_ids', 'case_id', 'resolved_on'],
  household: ['org_code', 'grid_code', 'head_name', 'address', 'members', 'phone', 'head_id_number', 'tags', 'safe_certified_years', 'active'],
  case_event: ['org_code', 'case_id', 'kind', 'occurred_at', 'participants', 'content', 'outcome', 'fulfilled', 'satisfaction', 'escalation_signs', 'attachment_ids'],
  mediation_case: ['org_code', 'title', 'category', 'status', 'parties', 'parties.0.phone', 'mediator_ids', 'agreement.terms', 'deadline_extensions.0.new_deadline'],
}

describe('record-type registry', () => {
  it('names every record type, its create action and every field in zh-CN and en, never by a raw key', () => {
    for (const [entity, type] of Object.entries(RECORD_TYPES)) {
      const keys = [type.label, type.create, ...Object.values(type.fields).map((f) => f.label)]
      for (const key of keys) {
        expect(lookup(ZH, key), `zh-CN ${entity}: ${key}`).toBeTruthy()
        expect(lookup(EN, key), `en ${entity}: ${key}`).toBeTruthy()
      }
    }
    for (const [entity, fields] of Object.entries(WIRE_FIELDS)) {
      for (const f of fields) {
        for (const n of [zh, en]) {
          const segments = fieldLabel(entity, f, n).split(' · ')
          for (const part of f.split('.').filter((p) => !/^\d+$/.test(p))) expect(segments, `${entity}.${f}`).not.toContain(part)
        }
      }
    }
  })

  it("labels a field in its record type's words: a nomination's category is not a dispute's", () => {
    expect(fieldLabel('nomination', 'category', zh)).toBe('推荐类别')
    expect(fieldLabel('mediation_case', 'category', zh)).toBe('纠纷类别')
    expect(fieldLabel('nomination', 'nominee_phone', zh)).toBe('被推荐人电话')
    expect(fieldLabel('nomination', 'org_code', zh)).toBe('所属村')
    expect(fieldLabel('six_no_report', 'indicators.0.evidence', zh)).toBe('六无指标 · 1 · 佐证材料')
    expect(fieldLabel('mediation_case', 'parties.1.phone', zh)).toBe('当事人 · 2 · 电话')
    expect(fieldLabel('nomination', 'nominee_phone', en)).not.toBe('nominee_phone')
  })

  it('titles records by what they are, never by a UUID', () => {
    expect(recordTitle('nomination', { id: NOMINATION, nominee_name: '郭淑珍', category: 'helping_others' }, zh)).toBe('郭淑珍（助人为乐推荐）')
    expect(recordTitle('six_no_report', { id: 'a3d3a92e-56f8', org_code: '340321108200', year: 2025 }, zh)).toBe('万福村 2025 年六无创建')
    expect(recordTitle('points_entry', { id: 'p1', household_id: HOUSEHOLD, rule: 'volunteer', points: 5, reason: '打扫' }, zh)).toBe('王建国户 +5 志愿服务')
    expect(recordTitle('points_entry', { id: 'p2', household_id: HOUSEHOLD, rule: 'littering', points: -5 }, zh)).toBe('王建国户 −5 乱扔垃圾')
    expect(recordTitle('nomination_objection', { id: 'o1', nomination_id: NOMINATION }, zh)).toBe('对郭淑珍推荐的异议')
    expect(recordTitle('household', { id: HOUSEHOLD, head_name: '王建国' }, zh)).toBe('王建国户')
    expect(recordTitle('incident', { id: 'i1', type: 'drugs' }, zh)).toBe('涉毒')
    expect(recordTitle('case_event', { id: 'e1', case_id: 'c1', kind: 'visit' }, zh)).toContain('宅基地边界纠纷')
    expect(recordTitle('patrol', { id: 'x', grid_code: '340321108200001', started_at: '2026-12-01T01:30:00Z' }, zh)).toBe('万福村一组网格 2026-12-01 巡查')
    // a record this phone does not hold: its type and a short id
    expect(recordTitle('nomination', { id: NOMINATION }, zh)).toBe('道德模范推荐 09547747')
    expect(recordTitle('nomination', { id: NOMINATION, nominee_name: '郭淑珍', category: 'helping_others' }, en)).toBe('郭淑珍 (nominated: Helping others)')
  })

  it('says what a change did: the create of each type by its own name, a state change by the state', () => {
    expect(changeKind('nomination', { base_rev: 0, fields: { state: 'nominated' } }, zh)).toBe('推荐')
    expect(changeKind('points_entry', { base_rev: 0, fields: { points: 5 } }, zh)).toBe('记积分')
    expect(changeKind('mediation_case', { base_rev: 0, fields: {} }, zh)).toBe('登记纠纷')
    expect(changeKind('six_no_report', { base_rev: 3, fields: { state: 'self_assessed' } }, zh)).toBe('转为：已自评')
    expect(changeKind('nomination', { base_rev: 2, fields: { state: 'village_reviewed' } }, zh)).toBe('转为：两委已评议')
    expect(changeKind('mediation_case', { base_rev: 2, fields: { status: 'mediating' } }, zh)).toBe('转为：调解中')
    expect(changeKind('nomination', { base_rev: 2, fields: { deeds: 'x' } }, zh)).toBe('编辑')
  })

  it('shows values in words: codes by name, six-no indicators as a readable list, checks, households and people', () => {
    const indicators = [
      { code: 'no_criminal_case', status: 'ok', evidence: '派出所证明：2025年无刑事案件' },
      { code: 'no_mass_incident', status: 'broken', incident_ids: ['i1'] },
      { code: 'no_cult' },
    ]
    expect(showValue('six_no_report', 'indicators', indicators, zh).split('\n')).toEqual([
      '无刑事案件：达标 · 佐证：派出所证明：2025年无刑事案件', '无群体性事件：被打破 · 1 个相关事件', '无邪教人员'])
    expect(showValue('nomination', 'state', 'village_reviewed', zh)).toBe('两委已评议')
    expect(showValue('nomination', 'category', 'bravery', zh)).toBe('见义勇为')
    expect(showValue('nomination', 'disqualifiers', { criminal_record: true, vice: false, checked_by: '李文' }, zh))
      .toBe('有犯罪记录：是；涉黄赌毒：否；核查人：李文')
    expect(showValue('points_entry', 'household_id', HOUSEHOLD, zh)).toBe('王建国户')
    expect(showValue('points_entry', 'rule', 'redeem', zh)).toBe('兑换')
    expect(showValue('incident', 'assignee_id', 'u-adm', zh)).toBe('张德明')
    expect(showValue('nomination', 'org_code', '340321108200', zh)).toBe('万福村村民委员会')
    expect(showValue('patrol', 'checklist', [{ item: 'fire_safety', ok: false, note: '灭火器过期' }], zh)).toBe('消防安全 有问题 灭火器过期')
    expect(showValue('six_no_report', 'indicators', indicators, en).split('\n')[0]).toBe('No criminal case: Met · Evidence: 派出所证明：2025年无刑事案件')
  })

  it('a fix form offers only the refused fields a person may edit, with widgets; never the unit, the state or server fields', () => {
    const sent = { org_code: '340321108200', category: 'bravery', nominee_name: '郭淑珍', deeds: '救起落水儿童', source: 'villagers', nominee_phone: '1380013800', state: 'nominated' }
    expect(fixFields('nomination', sent, [{ field: 'nominee_phone' }])).toEqual([{ field: 'nominee_phone', widget: 'tel', label: 'nom.f.nominee_phone', codes: undefined }])
    // the refusal names no field: the editable fields of the change, never org_code or state
    const all = fixFields('nomination', sent, []).map((f) => f.field)
    expect(all).toEqual(['category', 'nominee_name', 'deeds', 'source', 'nominee_phone'])
    expect(fixFields('nomination', sent, []).find((f) => f.field === 'category')).toMatchObject({ widget: 'choice', codes: 'nomination_category' })
    // the unit or the state refused: nothing here can cure it
    expect(fixFields('nomination', sent, [{ field: 'org_code' }])).toEqual([])
    expect(fixFields('nomination', sent, [{ field: 'state' }])).toEqual([])
    expect(fixFields('six_no_report', { indicators: [] }, [{ field: 'indicators.0.evidence' }])).toEqual([])
    const pts = fixFields('points_entry', { household_id: HOUSEHOLD, rule: 'redeem', points: 20, reason: '兑换', occurred_on: '2027-01-15' },
      [{ field: 'points' }, { field: 'occurred_on' }])
    expect(pts.map((f) => [f.field, f.widget])).toEqual([['points', 'number'], ['occurred_on', 'date']])
  })

  it('reads fix inputs back as the server wants them', () => {
    expect(fromInput('number', '-20')).toBe(-20)
    expect(fromInput('tel', ' 13800138000 ')).toBe('13800138000')
    expect(fromInput('text', '  ')).toBe(null)
    expect(toInput('datetime', '2026-12-01T01:30:00Z')).toBe('2026-12-01T09:30')
    expect(fromInput('datetime', '2026-12-01T09:30')).toBe('2026-12-01T01:30:00.000Z')
  })

  it("greys out a state the rules never allow from the current one, and one the user's role may not make", () => {
    // the township rejected the nomination; the village's stale review can never apply
    expect(stateChoice('village_reviewed', 'rejected', [], [])).toBe('rules')
    // a village admin may not reject: that is the township's
    expect(stateChoice('rejected', 'nominated', ['village_reviewed', 'rejected'], ['village_reviewed'])).toBe('role')
    expect(stateChoice('village_reviewed', 'nominated', ['village_reviewed', 'rejected'], ['village_reviewed'])).toBe('')
    expect(stateChoice('rejected', 'rejected', [], [])).toBe('')
  })
})
