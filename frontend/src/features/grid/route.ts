/**
 * Patrol routes: distance and duration (records.md: computed on read; the device computes the
 * same for a patrol still on the phone) and the route as an SVG polyline — no map tiles, so it
 * draws offline. Coordinates are WGS-84 as the browser gives them (maps in China draw GCJ-02).
 */
export interface RoutePoint {
  lat: number
  lon: number
  at: string
  accuracy?: number | null
}

const R = 6371008.8 // mean Earth radius, metres

export function haversine(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLon = (b.lon - a.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** Metres along the route, rounded. */
export function routeDistance(points: RoutePoint[]): number {
  let d = 0
  for (let i = 1; i < points.length; i++) d += haversine(points[i - 1], points[i])
  return Math.round(d)
}

/** Seconds from start to end (or to `now` for a patrol in progress); 0 when unknown or negative. */
export function patrolDuration(startedAt?: string | null, endedAt?: string | null, now: Date = new Date()): number {
  if (!startedAt) return 0
  const start = Date.parse(startedAt)
  const end = endedAt ? Date.parse(endedAt) : now.getTime()
  if (!Number.isFinite(start) || !Number.isFinite(end)) return 0
  return Math.max(0, Math.round((end - start) / 1000))
}

export const MAX_ROUTE_POINTS = 5000
export const MIN_STEP_M = 5
export const MAX_ACCURACY_M = 200

/**
 * Whether a new fix joins the route: a usable accuracy, and moved at least MIN_STEP_M (or 30 s
 * passed, so standing still at a place is still visible), and the route not full.
 */
export function acceptPoint(route: RoutePoint[], p: RoutePoint): boolean {
  if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) return false
  if (p.accuracy != null && p.accuracy > MAX_ACCURACY_M) return false
  if (route.length >= MAX_ROUTE_POINTS) return false
  const last = route[route.length - 1]
  if (!last) return true
  const moved = haversine(last, p)
  const secs = (Date.parse(p.at) - Date.parse(last.at)) / 1000
  return moved >= MIN_STEP_M || secs >= 30
}

/** Merges two copies of a route (the saved buffer and the record's), by time, without duplicates. */
export function mergeRoutes(a: RoutePoint[], b: RoutePoint[]): RoutePoint[] {
  const seen = new Map<string, RoutePoint>()
  for (const p of [...a, ...b]) seen.set(`${p.at}|${p.lat}|${p.lon}`, p)
  return [...seen.values()].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0)).slice(0, MAX_ROUTE_POINTS)
}

/**
 * SVG points for a polyline of the route inside a width×height box with a margin: an
 * equirectangular projection (longitude scaled by cos(latitude)), north up, aspect kept.
 */
export function routeSvgPoints(points: { lat: number; lon: number }[], width = 300, height = 200, margin = 12): string {
  if (!points.length) return ''
  const k = Math.cos((points.reduce((s, p) => s + p.lat, 0) / points.length) * (Math.PI / 180))
  const xs = points.map((p) => p.lon * k)
  const ys = points.map((p) => p.lat)
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys)
  const spanX = maxX - minX, spanY = maxY - minY
  const scale = Math.min((width - 2 * margin) / (spanX || 1e-9), (height - 2 * margin) / (spanY || 1e-9))
  const offX = (width - spanX * scale) / 2, offY = (height - spanY * scale) / 2
  return points
    .map((_, i) => {
      const x = spanX ? offX + (xs[i] - minX) * scale : width / 2
      const y = spanY ? height - (offY + (ys[i] - minY) * scale) : height / 2
      return `${x.toFixed(1)},${y.toFixed(1)}`
    })
    .join(' ')
}

export function formatDistance(m: number, lang: string): string {
  if (m < 1000) return lang === 'en' ? `${m} m` : `${m} 米`
  const km = (m / 1000).toFixed(2)
  return lang === 'en' ? `${km} km` : `${km} 公里`
}

export function formatDuration(s: number, lang: string): string {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60)
  if (lang === 'en') return h ? `${h} h ${m} min` : `${m} min`
  return h ? `${h} 小时 ${m} 分钟` : `${m} 分钟`
}
