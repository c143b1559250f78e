/**
 * Sync problems in words for people. The engine keeps a code (`network`, `busy`, a server
 * error code); this turns it into an i18n key under `sync.errors.*`, never a raw
 * "NetworkError" or "Failed to fetch".
 */
const KNOWN = new Set([
  'network', 'busy', 'internal', 'storage_full', 'upgrade_required', 'session_expired', 'not_authenticated',
  'session_revoked', 'reset_required', 'payload_too_large', 'validation_error', 'forbidden', 'unknown_record',
  'too_large', 'unsupported_media_type', 'checksum_mismatch', 'waiting_for_create', 'case_not_found',
])

export function syncErrorKey(code: string | null | undefined): string {
  if (!code) return 'sync.errors.other'
  if (/fetch|network|load failed|timeout|abort/i.test(code)) return 'sync.errors.network'
  return KNOWN.has(code) ? `sync.errors.${code}` : 'sync.errors.other'
}

export function describeSyncError(code: string | null | undefined, t: (key: string) => string): string {
  return t(syncErrorKey(code))
}
