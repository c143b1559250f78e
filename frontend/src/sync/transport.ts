/**
 * The only code that talks to /api/v1/sync (and /conflicts, /attachments for the engine).
 * Every sync call carries `X-Cunzhi-Protocol: 1`, the bearer token and the UI language.
 */
import type { PushRequest, PushResponse, PullResponse, StoredConflict, ApiError, AttachmentInfo } from '../api/types'

export const PROTOCOL_VERSION = '1'

export class HttpError extends Error {
  constructor(
    public status: number,
    public body: ApiError | null,
    public retryAfter: number | null = null,
  ) {
    super(`${status} ${body?.code || ''}`.trim())
    this.name = 'HttpError'
  }
  get code(): string {
    return this.body?.code || String(this.status)
  }
}

export class NetworkError extends Error {
  constructor(message = 'network') {
    super(message)
    this.name = 'NetworkError'
  }
}

export interface AttachmentUpload {
  id: string
  blob: Blob
  sha256: string
  entity: string
  record_id: string
  content_type: string
}

export interface Transport {
  push(body: PushRequest): Promise<PushResponse>
  pull(cursor: string | null, limit: number): Promise<PullResponse>
  openConflicts?(): Promise<StoredConflict[]>
  putAttachment?(a: AttachmentUpload): Promise<AttachmentInfo>
}

export interface HttpTransportOptions {
  baseUrl?: string
  getToken: () => string | null
  getLanguage?: () => string
  fetchFn?: typeof fetch
  timeoutMs?: number
}

function parseRetryAfter(v: string | null): number | null {
  if (!v) return null
  const n = Number(v)
  if (!Number.isNaN(n)) return Math.max(0, n)
  const t = Date.parse(v)
  return Number.isNaN(t) ? null : Math.max(0, (t - Date.now()) / 1000)
}

export class HttpTransport implements Transport {
  constructor(private o: HttpTransportOptions) {}

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers || {})
    headers.set('X-Cunzhi-Protocol', PROTOCOL_VERSION)
    headers.set('Accept', 'application/json')
    headers.set('Accept-Language', this.o.getLanguage?.() || 'zh-CN')
    const token = this.o.getToken()
    if (token) headers.set('Authorization', `Bearer ${token}`)
    const f = this.o.fetchFn || fetch
    const ctl = typeof AbortController !== 'undefined' ? new AbortController() : null
    const timer = ctl ? setTimeout(() => ctl.abort(), this.o.timeoutMs ?? 60_000) : null
    let res: Response
    try {
      res = await f(`${this.o.baseUrl || ''}${path}`, { ...init, headers, signal: ctl?.signal })
    } catch (e) {
      throw new NetworkError(String((e as any)?.message || e))
    } finally {
      if (timer) clearTimeout(timer)
    }
    if (!res.ok) {
      let body: ApiError | null
      try {
        body = await res.json()
      } catch {
        body = null
      }
      throw new HttpError(res.status, body, parseRetryAfter(res.headers.get('Retry-After')))
    }
    try {
      return (await res.json()) as T
    } catch {
      throw new NetworkError('bad response body')
    }
  }

  push(body: PushRequest): Promise<PushResponse> {
    return this.call('/api/v1/sync/push', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    })
  }

  pull(cursor: string | null, limit: number): Promise<PullResponse> {
    const q = new URLSearchParams()
    if (cursor) q.set('cursor', cursor)
    q.set('limit', String(limit))
    return this.call(`/api/v1/sync/pull?${q}`)
  }

  async openConflicts(): Promise<StoredConflict[]> {
    const items: StoredConflict[] = []
    let cursor: string | null = null
    for (let page = 0; page < 20; page++) {
      const q = new URLSearchParams({ status: 'open', limit: '100' })
      if (cursor) q.set('cursor', cursor)
      const res: { items: StoredConflict[]; next_cursor: string | null } = await this.call(`/api/v1/conflicts?${q}`)
      items.push(...res.items)
      if (!res.next_cursor) break
      cursor = res.next_cursor
    }
    return items
  }

  putAttachment(a: AttachmentUpload): Promise<AttachmentInfo> {
    const form = new FormData()
    const ext = a.content_type === 'image/png' ? 'png' : a.content_type === 'image/webp' ? 'webp' : 'jpg'
    form.append('file', a.blob, `${a.id}.${ext}`)
    form.append('sha256', a.sha256)
    form.append('entity', a.entity)
    form.append('record_id', a.record_id)
    return this.call(`/api/v1/attachments/${a.id}`, { method: 'PUT', body: form })
  }
}
