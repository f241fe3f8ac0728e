/** A list with at least one item: what a group of groupBy is. */
export type NonEmpty<T> = [T, ...T[]]

/** Items grouped by key, groups and items in first-seen order. */
export function groupBy<T>(
  items: Iterable<T>,
  keyOf: (item: T) => string,
): Map<string, NonEmpty<T>> {
  const groups = new Map<string, NonEmpty<T>>()
  for (const item of items) {
    const key = keyOf(item)
    const group = groups.get(key)
    if (group) group.push(item)
    else groups.set(key, [item])
  }
  return groups
}
