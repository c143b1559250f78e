import { liveQuery } from 'dexie'
import { onUnmounted, ref, shallowRef, watch, type Ref, type WatchSource } from 'vue'

/** A Dexie live query as a Vue ref; re-runs when its tables change or when `deps` change. */
export function useLiveQuery<T>(query: () => Promise<T> | T, initial: T, deps: WatchSource[] = []): Ref<T> {
  const value = shallowRef(initial) as Ref<T>
  let sub: { unsubscribe(): void } | null = null
  const start = () => {
    sub?.unsubscribe()
    sub = liveQuery(query).subscribe({
      next: (v) => (value.value = v),
      error: (e) => console.error('live query failed', e),
    })
  }
  start()
  if (deps.length) watch(deps, start)
  onUnmounted(() => sub?.unsubscribe())
  return value
}

export function useDebounced<T>(source: Ref<T>, ms: number): Ref<T> {
  const out = ref(source.value) as Ref<T>
  let t: ReturnType<typeof setTimeout> | null = null
  watch(source, (v) => {
    if (t) clearTimeout(t)
    t = setTimeout(() => (out.value = v), ms)
  })
  return out
}
