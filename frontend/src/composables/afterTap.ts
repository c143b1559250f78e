/**
 * Runs `fn` once the tap in progress (if any) has landed: a message that appears on blur must not move the
 * button under the finger between press and release (the tap would miss it). A blur caused by a tap comes at
 * the press (mouse, pen) or just after the release (touch, with the tap's click right behind it); either way the
 * change waits for that click (or a short timeout when no click follows, e.g. a drag). Other blurs (the keyboard,
 * a field left by script) run at once.
 */
const SETTLE_MS = 400
let down = false
let lastUp = 0
let installed = false

function install() {
  if (installed || typeof document === 'undefined') return
  installed = true
  document.addEventListener('pointerdown', () => (down = true), true)
  const up = () => {
    down = false
    lastUp = Date.now()
  }
  document.addEventListener('pointerup', up, true)
  document.addEventListener('pointercancel', up, true)
}

export function tapInProgress(now = Date.now()): boolean {
  install()
  return down || now - lastUp < SETTLE_MS
}

export function afterTap(fn: () => void): void {
  install()
  if (!tapInProgress()) {
    fn()
    return
  }
  let done = false
  const run = () => {
    if (done) return
    done = true
    document.removeEventListener('click', onClick, true)
    fn()
  }
  const onClick = () => setTimeout(run, 0)
  document.addEventListener('click', onClick, true)
  setTimeout(run, SETTLE_MS)
}

/** Installs the listeners early (the first tap on a form comes before any blur). */
export function watchTaps(): void {
  install()
}
