/**
 * Wire types of the Cunzhi API (sync-protocol.md v1, product.md).
 * Hand-written to match the server contract; `npm run gen:api` writes the generated
 * schema to api/openapi.d.ts once the backend can print its OpenAPI document.
 */

export type Entity = 'mediation_case' | 'case_event'

export interface CommonFields {
  id: string
  org_code: string
  rev: number
  deleted: boolean
  created_at?: string
  updated_at?: string
  created_by?: string
  updated_by?: string
}

export interface Party {
  name: string
  role: 'applicant' | 'respondent' | 'other'
  gender?: 'male' | 'female' | 'unknown' | null
  phone?: string | null
  id_number?: string | null
  address?: string | null
}

export interface Agreement {
  form: 'written' | 'oral'
  terms?: string | null
  amount?: string | null
  performance?: string | null
  signed_on?: string | null
  perform_by?: string | null
  attachment_ids?: string[]
  court_confirmation?: 'none' | 'requested' | 'granted'
}

export interface DeadlineExtension {
  new_deadline: string
  reason: string
  recorded_by?: string
  recorded_at?: string
}

export type CaseStatus =
  | 'registered' | 'mediating' | 'agreed' | 'fulfilling' | 'fulfilled' | 'archived'
  | 'declined' | 'terminated' | 'referred'

export interface MediationCase extends CommonFields {
  title: string
  description?: string | null
  category: string
  source: string
  received_on: string
  place?: string | null
  parties: Party[]
  people_involved?: number | null
  amount_in_dispute?: string | null
  mediator_ids?: string[]
  risk_level: 'red' | 'orange' | 'yellow' | 'blue'
  escalation_flag?: boolean
  escalation_note?: string | null
  status: CaseStatus
  deadline?: string | null
  deadline_extensions?: DeadlineExtension[]
  agreement?: Agreement | null
  outcome_note?: string | null
  incident_id?: string | null
  case_number?: string | null
  deadline_color?: string | null
  ended_on?: string | null
  ended_as?: string | null
}

export interface CaseEvent extends CommonFields {
  case_id: string
  kind: 'session' | 'investigation' | 'follow_up' | 'referral' | 'note'
  occurred_at: string
  participants?: string | null
  content?: string | null
  outcome?: string | null
  fulfilled?: boolean | null
  satisfaction?: number | null
  escalation_signs?: boolean | null
  attachment_ids?: string[]
}

export type AnyRecord = CommonFields & Record<string, any>

export interface Mutation {
  mutation_id: string
  entity: Entity | string
  op: 'upsert' | 'delete'
  record_id: string
  base_rev: number
  fields: Record<string, any>
  client_time: string
  base_epoch?: string | null
  resolves_conflict?: string | null
}

export interface PushRequest {
  client_id: string
  mutations: Mutation[]
}

export interface FieldConflict {
  field: string
  client_value: any
  server_value: any
}

export interface ErrorDetail {
  field?: string
  code: string
  message: string
}

export interface ApiError {
  code: string
  message: string
  details?: ErrorDetail[]
}

export type ResultStatus = 'applied' | 'merged' | 'conflict' | 'duplicate' | 'rejected'

export interface MutationResult {
  mutation_id: string
  status: ResultStatus
  original_status?: ResultStatus
  record?: AnyRecord | null
  conflict_id?: string | null
  conflicts?: FieldConflict[]
  error?: ApiError | null
}

export interface PushResponse {
  results: MutationResult[]
  server_time: string
}

export interface PullChange {
  entity: Entity | string
  record: AnyRecord
}

export interface PullResponse {
  changes: PullChange[]
  cursor: string
  has_more: boolean
  server_epoch: string
  /** the county's settings and code tables as a stamp (county settings): differs from the cached /reference's → refetch */
  settings_version?: string
}

export interface StoredConflict {
  id: string
  entity: string
  record_id: string
  client_id?: string
  created_by?: string
  base_rev: number
  fields: FieldConflict[]
  status: 'open' | 'resolved'
  created_at?: string
  resolved_at?: string | null
  resolved_by?: string | null
}

export interface TokenResponse {
  access_token: string
  token_type: 'bearer'
  expires_at: string
  session_id?: string
}

export interface Me {
  id: string
  username: string
  display_name: string
  role: string
  org_code: string
  org_name?: string
  permissions: Record<string, string[]>
  unmasked_org_prefixes?: string[]
  personal_fields?: Record<string, string[]>
  /** township and county admins: may set passwords and deactivate the accounts in their scope */
  manages_users?: boolean
}

export interface AdminUser {
  id: string
  username: string
  display_name: string
  role: string
  org_code: string
  active: boolean
  password_changed_at: string | null
  /** the caller may set its password, (de)activate it and revoke its sessions (ranked below the caller) */
  manageable?: boolean
}

/** A signed-in device of an account (GET /sessions). */
export interface AdminSession {
  id: string
  user_id: string
  username: string
  client_id: string
  user_agent: string
  created_at: string
  last_seen_at: string
  expires_at: string
  revoked_at: string | null
}

export interface NewUser {
  username: string
  display_name: string
  role: string
  org_code: string
  password: string
}

export interface CodeItem {
  code: string
  name_zh: string
  name_en: string
}

export interface Reference {
  version: string
  code_tables: Record<string, CodeItem[]>
  case_transitions: Record<string, string[]>
  settings: { deadline_days: number; notice_days?: number; deadline_warn_days?: number; [k: string]: any }
  orgs: { code: string; name: string; level?: string; parent_code?: string | null }[]
  users: { id: string; display_name: string; role: string; org_code: string }[]
  /** the grids in the caller's scope with their workers (grid work) */
  grids: { code: string; name: string; village_code?: string; worker_ids?: string[]; retired?: boolean; [k: string]: unknown }[]
  patrol_transitions: Record<string, string[]>
  incident_transitions: Record<string, string[]>
  /** county settings: deactivated codes (labels for old records, never offered) and the stamp the pull carries */
  inactive_codes?: Record<string, CodeItem[]>
  settings_version?: string
}

export interface AttachmentInfo {
  id: string
  sha256: string
  content_type: string
  size: number
}
