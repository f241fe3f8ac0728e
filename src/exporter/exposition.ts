// The Prometheus text exposition format's one escaper for label values, shared by
// `check --format prometheus` and the exporter's hand-rendered per-AOR lines; and the families both give.

/** A label value escaped as the exposition format requires: backslash, double quote, line feed. */
export function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** The per-AOR families: `check --format prometheus` and the exporter give the same names and HELP. */
export const AOR_FAMILIES = {
  contacts: { name: 'pjctl_aor_contacts', help: 'Unexpired contacts registered to the AOR.' },
  maxContacts: {
    name: 'pjctl_aor_max_contacts',
    help: "The AOR's max_contacts (absent when unknown).",
  },
  superseded: {
    name: 'pjctl_aor_superseded_contacts',
    help: 'Contacts superseded by a newer registration from the same device.',
  },
  expired: {
    name: 'pjctl_aor_expired_contacts',
    help: 'Contacts past expiration_time that Asterisk has not swept yet.',
  },
  state: {
    name: 'pjctl_aor_state',
    help: "The AOR's state (ok, near, full, over, unknown): 1 for the current one.",
  },
} as const

/** The per-server families both give, with the same names and HELP. */
export const SERVER_FAMILIES = {
  sources: {
    name: 'pjctl_source_contacts',
    help: 'Unexpired contacts from the source address (via_addr), all AORs together; the 100 busiest addresses and every one at or above --per-ip-limit.',
  },
  up: { name: 'pjctl_server_up', help: '1 when pjctl could read the server.' },
  status: {
    name: 'pjctl_check_status',
    help: 'Check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.',
  },
} as const

/** `# HELP` and `# TYPE … gauge` of a family, each line ending in a line feed. */
export function gaugeHeader(family: { name: string; help: string }): string {
  return familyHeader(family, 'gauge')
}

/** `# HELP` and `# TYPE` of a family, each line ending in a line feed. */
export function familyHeader(
  family: { name: string; help: string },
  type: 'gauge' | 'counter',
): string {
  return `# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${family.name} ${type}\n`
}
