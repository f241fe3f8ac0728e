// GetConfig categories as the AMI adapter gives them, for the tests of what is read from them.
import type { ConfigCategory } from '../../src/core/types.js'

/** A category `name` holding `lines` (name, value), not a template unless `extra` says so. */
export function cat(
  name: string,
  lines: [string, string][],
  extra: Partial<ConfigCategory> = {},
): ConfigCategory {
  return {
    name,
    template: false,
    templates: [],
    lines: lines.map(([n, v]) => ({ name: n, value: v })),
    ...extra,
  }
}
