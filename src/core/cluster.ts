// A cluster: Asterisk nodes that share one contact store (realtime ps_contacts). Each contact carries
// the node that registered it (reg_server, the node's asterisk.conf systemname); only that node
// qualifies it, so only that node can remove it cleanly. Pure: what doctor says about a cluster.

import type { Finding } from './doctor.js'
import type { AorReport } from './types.js'

/** What one configured server showed about itself and its contacts. */
export interface NodeFacts {
  server: string
  /** AMI CoreSettings SystemName ('' when asterisk.conf sets none); null when it could not be asked. */
  systemName: string | null
  /** The contact store's identity: servers with the same non-null store read the same contacts. null: a
   *  store of the node's own (astdb), never shared. */
  store: string | null
  aors: readonly AorReport[]
}

/** Contacts per node that registered them (reg_server; '' for none), over every AOR. */
function contactsByNode(aors: readonly AorReport[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const aor of aors)
    for (const contact of aor.contacts)
      counts.set(contact.regServer, (counts.get(contact.regServer) ?? 0) + 1)
  return counts
}

/** AORs whose contacts were registered through more than one node, with those nodes (sorted). */
function splitAors(aors: readonly AorReport[]): { aor: string; nodes: string[] }[] {
  const split: { aor: string; nodes: string[] }[] = []
  for (const aor of aors) {
    const nodes = new Set(aor.contacts.map((c) => c.regServer))
    if (nodes.size > 1) split.push({ aor: aor.aor, nodes: [...nodes].sort() })
  }
  return split
}

const shown = (name: string): string => (name === '' ? '(none)' : name)

/**
 * Doctor's cluster findings, per server name:
 * - nodes sharing a store with the same or an empty systemname (who registered what cannot be told);
 * - contacts registered through a node no configured server is (gone, or not configured): prune_on_boot
 *   only cleans a node's own contacts when that node restarts, and only that node stops qualifying them;
 * - AORs whose registrations are split across nodes.
 */
export function clusterFindings(nodes: readonly NodeFacts[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>(nodes.map((n) => [n.server, []]))
  const known = new Set(
    nodes.flatMap((n) => (n.systemName === null || n.systemName === '' ? [] : [n.systemName])),
  )
  // who shares a store with whom (a store of a node's own: only itself)
  const byStore = new Map<string, NodeFacts[]>()
  for (const node of nodes) {
    if (node.store === null) continue
    byStore.set(node.store, [...(byStore.get(node.store) ?? []), node])
  }
  for (const node of nodes) {
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- out holds every node's server (filled above)
    const findings = out.get(node.server)!
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- byStore holds every node with a store (filled above)
    const peers = node.store === null ? [node] : byStore.get(node.store)!
    const byNode = contactsByNode(node.aors)
    const names = [...byNode.keys()].filter((n) => n !== '')
    const clustered = peers.length > 1 || names.some((n) => n !== node.systemName)
    if (clustered && node.systemName === '')
      findings.push({
        severity: 'warning',
        kind: 'cluster-systemname',
        subject: `${node.server}: systemname`,
        evidence: `${peers.length > 1 ? `${peers.length} configured servers share this contact store` : `the store holds contacts of node(s) ${names.join(', ')}`}, and this node has no systemname: its contacts carry an empty reg_server, so no one can tell which node registered (and qualifies) them`,
        fix: 'in asterisk.conf [options] set systemname = <a name of its own> on every node of the cluster, then restart it',
      })
    if (node.systemName) {
      const twins = peers.filter((p) => p !== node && p.systemName === node.systemName)
      if (twins.length)
        findings.push({
          severity: 'warning',
          kind: 'cluster-systemname',
          subject: `${node.server}: systemname ${node.systemName}`,
          evidence: `${[node, ...twins].map((p) => p.server).join(', ')} share this contact store with the same systemname ${node.systemName}: their contacts cannot be told apart, and a change may go through a node that does not qualify the contact`,
          fix: 'give each node a systemname of its own (asterisk.conf [options] systemname), then restart it',
        })
    }
    const unknown = names.filter((n) => !known.has(n)).sort()
    if (unknown.length && nodes.every((n) => n.systemName !== null))
      findings.push({
        severity: 'warning',
        kind: 'contacts-of-unknown-node',
        subject: unknown.map(shown).join(', '),
        evidence: `${unknown.map((n) => `${byNode.get(n)} contact(s) registered through ${n}`).join(', ')}, which no configured server is (its CoreSettings SystemName): a node that is gone, or one pjctl is not configured with. Only that node qualifies them, and Asterisk's prune_on_boot cleans them only when that node restarts`,
        fix: "configure that node in pjctl's config file: it alone can remove its contacts cleanly. If it is gone for good, no node qualifies them any more and pjctl prune can remove them through any node",
        subjects: unknown,
      })
    const split = splitAors(node.aors)
    // said once per store: on the first of the servers that share it
    if (split.length && peers[0] === node)
      findings.push({
        severity: 'info',
        kind: 'aor-split-across-nodes',
        subject: split.length === 1 && split[0] ? split[0].aor : `${split.length} AORs`,
        evidence:
          split
            .slice(0, 5)
            .map((s) => `${s.aor} through ${s.nodes.map(shown).join(' and ')}`)
            .join('; ') + (split.length > 5 ? `; +${split.length - 5} more` : ''),
        fix: 'nothing to change if the proxy spreads one device per node; a device that moves between nodes leaves a contact on each, which pjctl prune removes through each one',
        subjects: split.map((s) => s.aor),
      })
  }
  return out
}

/**
 * Servers whose contact store is the same (same non-null identity) in groups, each in the order given;
 * a server with a store of its own (null: astdb) is a group alone. Groups come in the order of their
 * first server: a cluster is read once, through the first of its servers that pjctl was given.
 */
export function storeGroups<T extends { store: string | null }>(nodes: readonly T[]): T[][] {
  const groups: T[][] = []
  const byStore = new Map<string, T[]>()
  for (const node of nodes) {
    const shared = node.store === null ? undefined : byStore.get(node.store)
    if (shared) {
      shared.push(node)
      continue
    }
    const group = [node]
    groups.push(group)
    if (node.store !== null) byStore.set(node.store, group)
  }
  return groups
}
