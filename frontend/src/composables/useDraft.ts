/**
 * Drafts for every form: what the person types is saved (debounced, and at once when the page is
 * hidden: the camera app may kill the tab) in this user's database, restored when the form opens
 * again (after a reload, a killed tab, a closed sheet), and cleared when the form is saved or
 * explicitly discarded. With `guardLeave`, leaving the page (the back gesture) asks first.
 *
 * Usage (generic: any reactive form object):
 *   const form = reactive({ ... })
 *   const draft = useDraft(() => `case:edit:${id}`, form, { guardLeave: true })
 *   // once the form holds the record's values:
 *   await draft.start()          // baseline = current values; restores a saved draft over them
 *   ...
 *   await draft.clear()          // after a successful save
 */
import { onBeforeUnmount, onMounted, ref, watch } from 'vue'
import { onBeforeRouteLeave } from 'vue-router'
import { showConfirmDialog } from 'vant'
import 'vant/es/dialog/style'
import { dbRef } from '../app/runtime'
import { i18n } from '../i18n'
import type { CunzhiDB } from '../db'

export interface DraftOptions {
  delayMs?: number
  /** ask before leaving the page with unsaved changes */
  guardLeave?: boolean
  db?: () => CunzhiDB | null
}

/** JSON of the form; reads every (nested) property, so a watch on it sees any change. */
function snapshot(v: unknown): string {
  return JSON.stringify(v)
}

/** Puts saved values into the live form (top-level keys; arrays and objects replaced). */
export function applyDraft(target: Record<string, any>, saved: Record<string, any>) {
  for (const [k, v] of Object.entries(saved)) if (k in target) target[k] = v
}

export function useDraft<T extends Record<string, any>>(key: () => string, form: T, opts: DraftOptions = {}) {
  const getDb = opts.db || (() => dbRef.value)
  const restored = ref(false)
  const dirty = ref(false)
  const started = ref(false)
  let baseline = snapshot(form)
  let timer: ReturnType<typeof setTimeout> | null = null
  let leaving = false

  async function save() {
    if (timer) clearTimeout(timer)
    timer = null
    const db = getDb()
    if (!db || !started.value) return
    const now = snapshot(form)
    dirty.value = now !== baseline
    try {
      if (dirty.value) await db.drafts.put({ key: key(), updated_at: new Date().toISOString(), value: JSON.parse(now) })
      else await db.drafts.delete(key())
    } catch {
      /* a draft is a convenience; the form still works */
    }
  }

  /** Sets the baseline to the form's current values, then lays a saved draft over them. */
  async function start(): Promise<boolean> {
    baseline = snapshot(form)
    started.value = true
    const db = getDb()
    const row = db ? await db.drafts.get(key()).catch(() => undefined) : undefined
    if (row?.value) {
      applyDraft(form, row.value)
      restored.value = true
      dirty.value = snapshot(form) !== baseline
      return true
    }
    return false
  }

  /** After a save (or an explicit discard): forget the draft. */
  async function clear() {
    if (timer) clearTimeout(timer)
    timer = null
    baseline = snapshot(form)
    dirty.value = false
    restored.value = false
    await getDb()?.drafts.delete(key()).catch(() => undefined)
  }

  watch(() => snapshot(form), () => {
    if (!started.value) return
    dirty.value = snapshot(form) !== baseline
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void save(), opts.delayMs ?? 300)
  })

  const flush = () => {
    if (timer) void save()
  }
  const onHidden = () => {
    if (document.visibilityState === 'hidden') flush()
  }
  onMounted(() => {
    document.addEventListener('visibilitychange', onHidden)
    window.addEventListener('pagehide', flush)
  })
  onBeforeUnmount(() => {
    document.removeEventListener('visibilitychange', onHidden)
    window.removeEventListener('pagehide', flush)
    flush()
  })

  if (opts.guardLeave) {
    onBeforeRouteLeave(async () => {
      if (leaving || !dirty.value) return true
      try {
        await showConfirmDialog({
          title: i18n.global.t('draft.leaveTitle'),
          message: i18n.global.t('draft.leaveBody'),
          confirmButtonText: i18n.global.t('draft.discard'),
          cancelButtonText: i18n.global.t('draft.keepEditing'),
        })
      } catch {
        return false
      }
      await clear()
      return true
    })
  }

  /** Leave without asking (after a save). */
  function allowLeave() {
    leaving = true
  }

  return { restored, dirty, start, save, clear, allowLeave }
}
