// npm run test:asterisk: the suite in test/asterisk/ against every lab that is up.
//
// A lab is a LAB_PREFIX directory (~/.pjctl-lab, ~/.pjctl-lab-rt, ~/.pjctl-lab-23.4.1, …) whose
// Asterisk runs (run/lab.pid alive); its ports come from its live etc/ (manager.conf `port`,
// pjsip.conf `bind`), and its kind from its sorcery.conf: `realtime` labs (contacts in SQL: PostgreSQL or
// MariaDB, as extconfig.conf says; the realtime tests read it too) run
// test/asterisk/realtime*.test.ts, astdb labs the rest. Each lab's run holds that lab's lock
// (/tmp/pjctl-lab.lock for ~/.pjctl-lab, /tmp/pjctl-lab-<suffix>.lock for ~/.pjctl-lab-<suffix>).
// With LAB_AMI_PORT set, only that one lab (as before), its kind from LAB_KIND (default astdb).
// No lab up: exit 1, saying how to start one. Exit 0 only when every lab's run passed.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, join } from 'node:path'

const home = homedir()
const extra = process.argv.slice(2)

function alive(prefix) {
  try {
    const pid = Number(readFileSync(join(prefix, 'run/lab.pid'), 'utf8').trim())
    return pid > 0 && existsSync(`/proc/${pid}`)
  } catch {
    return false
  }
}

function read(file) {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

function labAt(prefix) {
  const etc = join(prefix, 'etc')
  const ami = /^\s*port\s*=\s*(\d+)/m.exec(read(join(etc, 'manager.conf')))?.[1]
  const sip = /^\s*bind\s*=\s*[^:\s]*:(\d+)/m.exec(read(join(etc, 'pjsip.conf')))?.[1]
  if (!ami || !sip) return null
  const suffix = basename(prefix).replace(/^\.pjctl-lab-?/, '')
  const kind = /^\s*contact\s*=\s*realtime/m.test(read(join(etc, 'sorcery.conf')))
    ? 'realtime'
    : 'astdb'
  // the realtime tests find the database the same way (extconfig.conf: ps_contacts => pgsql or mysql)
  const db = /^\s*ps_contacts\s*=>\s*(\w+)/m.exec(read(join(etc, 'extconfig.conf')))?.[1]
  return {
    name: `${basename(prefix)} (AMI ${ami}, ${kind}${kind === 'realtime' && db ? ` ${db}` : ''})`,
    env: {
      LAB_PREFIX: prefix,
      LAB_AMI_PORT: ami,
      LAB_SIP_PORT: sip,
      LAB_KIND: kind,
      LAB_LOCK: suffix ? `/tmp/pjctl-lab-${suffix}.lock` : '/tmp/pjctl-lab.lock',
    },
  }
}

let labs
if (process.env.LAB_AMI_PORT) {
  labs = [
    {
      name: `AMI ${process.env.LAB_AMI_PORT}`,
      env: { LAB_KIND: process.env.LAB_KIND ?? 'astdb' },
    },
  ]
} else {
  labs = readdirSync(home)
    .filter((name) => /^\.pjctl-lab(-[\w.]+)?$/.test(name))
    // the cluster's nodes run together, below
    .filter((name) => !/^\.pjctl-lab-cluster-/.test(name))
    .sort()
    .map((name) => join(home, name))
    .filter(alive)
    .map(labAt)
    .filter(Boolean)
}
// The two-node cluster (lab/cluster.sh): test/asterisk/cluster*.test.ts once, when both nodes are up.
const clusterNodes = ['.pjctl-lab-cluster-a', '.pjctl-lab-cluster-b'].map((n) => join(home, n))
let cluster = null
if (!process.env.LAB_AMI_PORT) {
  if (clusterNodes.every(alive)) {
    const [a, b] = clusterNodes.map(labAt)
    if (a && b)
      cluster = {
        name: `cluster pbxA (AMI ${a.env.LAB_AMI_PORT}) + pbxB (AMI ${b.env.LAB_AMI_PORT})`,
        env: {
          ...a.env,
          LAB_KIND: 'cluster',
          LAB_LOCK: '/tmp/pjctl-lab-cluster.lock',
          CLUSTER_A_AMI: a.env.LAB_AMI_PORT,
          CLUSTER_B_AMI: b.env.LAB_AMI_PORT,
          CLUSTER_B_SIP: b.env.LAB_SIP_PORT,
        },
      }
  } else
    console.error(
      'test:asterisk: the cluster tests are skipped: both cluster nodes must be up (lab/cluster.sh start; lab/README.md, A cluster)',
    )
  if (cluster) labs.push(cluster)
}
if (!labs.length) {
  console.error(
    'npm run test:asterisk: no lab is up (no ~/.pjctl-lab*/run/lab.pid of a running Asterisk). Start one: lab/start.sh, or lab/realtime.sh (lab/README.md)',
  )
  process.exit(1)
}

const results = []
for (const lab of labs) {
  console.error(`\ntest:asterisk: ${lab.name}`)
  const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.asterisk.config.ts', ...extra], {
    stdio: 'inherit',
    env: { ...process.env, ...lab.env },
  })
  results.push([lab.name, r.status ?? 1])
}
console.error('\ntest:asterisk: per lab')
for (const [name, code] of results) console.error(`  ${code === 0 ? 'pass' : 'FAIL'}  ${name}`)
process.exit(results.every(([, code]) => code === 0) ? 0 : 1)
