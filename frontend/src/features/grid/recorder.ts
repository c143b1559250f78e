/**
 * Records a patrol's route while the app is open: navigator.geolocation.watchPosition (after the
 * person allows location), a screen Wake Lock so the phone does not sleep mid-patrol, and the
 * points saved to IndexedDB (table route_buffer) every few seconds, so a killed tab loses at most
 * seconds; reopening the patrol resumes with its route. The route goes into the patrol record
 * (through the outbox) every few minutes and when the patrol ends. When location is refused or
 * unavailable the person types the places visited instead.
 */
import { reactive } from 'vue'
import type { CunzhiDB } from '../../db'
import { acceptPoint, mergeRoutes, type RoutePoint } from './route'
import { shanghaiIso } from '../../sync/dates'
import { recordChange } from '../../sync/outbox'

export const SAVE_EVERY_MS = 3000
export const RECORD_EVERY_MS = 5 * 60_000

export type LocationState = 'starting' | 'watching' | 'denied' | 'unavailable'

export class PatrolRecorder {
  state = reactive({ points: [] as RoutePoint[], places: [] as string[], location: 'starting' as LocationState, wakeLock: false, savedAt: '' })
  private watchId: number | null = null
  private saveTimer: ReturnType<typeof setInterval> | null = null
  private recordTimer: ReturnType<typeof setInterval> | null = null
  private wake: any = null
  private dirty = false
  private recordedCount = 0
  private onVisible = () => {
    if (document.visibilityState === 'visible') void this.lockScreen()
    else void this.save()
  }

  constructor(private db: CunzhiDB, readonly patrolId: string) {}

  /** Loads the saved route (buffer and record), then starts watching the position. */
  async start(recordRoute: RoutePoint[] = [], recordPlaces: string[] = []): Promise<void> {
    const buf = await this.db.route_buffer.get(this.patrolId)
    this.state.points = mergeRoutes(buf?.points || [], recordRoute || [])
    this.state.places = [...new Set([...(recordPlaces || []), ...(buf?.places || [])])]
    this.recordedCount = (recordRoute || []).length
    this.watch()
    void this.lockScreen()
    document.addEventListener('visibilitychange', this.onVisible)
    window.addEventListener('pagehide', this.onVisible)
    this.saveTimer = setInterval(() => void this.save(), SAVE_EVERY_MS)
    this.recordTimer = setInterval(() => void this.writeRecord(), RECORD_EVERY_MS)
  }

  private watch() {
    const geo = navigator.geolocation
    if (!geo) {
      this.state.location = 'unavailable'
      return
    }
    this.watchId = geo.watchPosition(
      (pos) => {
        this.state.location = 'watching'
        this.add({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy ?? null, at: shanghaiIso(new Date(pos.timestamp || Date.now())) })
      },
      (err) => {
        this.state.location = err.code === err.PERMISSION_DENIED ? 'denied' : 'unavailable'
      },
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 },
    )
  }

  add(p: RoutePoint) {
    if (!acceptPoint(this.state.points, p)) return
    this.state.points.push(p)
    this.dirty = true
  }

  addPlace(place: string) {
    const v = place.trim()
    if (!v) return
    this.state.places.push(v)
    this.dirty = true
    void this.save()
  }

  private async lockScreen() {
    const wl = (navigator as any).wakeLock
    if (!wl || this.wake) return
    try {
      this.wake = await wl.request('screen')
      this.state.wakeLock = true
      this.wake.addEventListener?.('release', () => {
        this.wake = null
        this.state.wakeLock = false
      })
    } catch {
      this.state.wakeLock = false // not allowed (battery saver, not visible): the route still records while open
    }
  }

  /** Saves the points to IndexedDB (cheap; every few seconds). */
  async save(): Promise<void> {
    if (!this.dirty) return
    this.dirty = false
    const saved_at = new Date().toISOString()
    await this.db.route_buffer.put({
      patrol_id: this.patrolId, points: this.state.points.map((p) => ({ ...p, accuracy: p.accuracy ?? null })),
      places: [...this.state.places], saved_at,
    })
    this.state.savedAt = saved_at
  }

  /** Writes the route into the patrol record (an outbox change) when it grew. */
  async writeRecord(extra: Record<string, any> = {}): Promise<void> {
    await this.save()
    const grew = this.state.points.length !== this.recordedCount
    if (!grew && !Object.keys(extra).length) return
    const fields: Record<string, any> = { ...extra }
    if (grew || extra.state) {
      fields.route = this.state.points.map((p) => (p.accuracy == null ? { lat: p.lat, lon: p.lon, at: p.at } : { lat: p.lat, lon: p.lon, at: p.at, accuracy: Math.round(p.accuracy * 10) / 10 }))
      fields.places_visited = [...this.state.places]
    }
    await recordChange(this.db, { entity: 'patrol', recordId: this.patrolId, fields })
    this.recordedCount = this.state.points.length
  }

  /** Stops watching (leaving the screen); the saved buffer stays for the next open. */
  async stop(): Promise<void> {
    if (this.watchId !== null) navigator.geolocation?.clearWatch(this.watchId)
    this.watchId = null
    if (this.saveTimer) clearInterval(this.saveTimer)
    if (this.recordTimer) clearInterval(this.recordTimer)
    document.removeEventListener('visibilitychange', this.onVisible)
    window.removeEventListener('pagehide', this.onVisible)
    try {
      await this.wake?.release?.()
    } catch {
      /* already released */
    }
    this.wake = null
    await this.save()
  }

  /** Ends the patrol: the final route, the end time and the state, then drops the buffer. */
  async finish(state: 'completed' | 'cancelled', extra: Record<string, any> = {}): Promise<void> {
    await this.stop()
    await this.writeRecord({ ...extra, state, ended_at: shanghaiIso() })
    await this.db.route_buffer.delete(this.patrolId)
    forgetRecorder(this)
  }
}

/**
 * The patrol being recorded on this device: one recorder for the whole app, so leaving the patrol
 * screen (to report an incident, say) keeps the route recording while the app is open.
 */
let active: PatrolRecorder | null = null

export function activeRecorder(): PatrolRecorder | null {
  return active
}

/** The running recorder of this patrol, started (with its saved route) on first use. */
export function recorderFor(db: CunzhiDB, patrolId: string, route: RoutePoint[], places: string[]): PatrolRecorder {
  if (active && active.patrolId === patrolId) return active
  if (active) void active.stop()
  active = new PatrolRecorder(db, patrolId)
  void active.start(route, places)
  return active
}

export function forgetRecorder(r: PatrolRecorder) {
  if (active === r) active = null
}
