// The lab as data: the captured Asterisk 22.10.1 (test/fixtures/ami-transcripts), a lockout for
// `pjctl demo`, and a generator of big, realistic contact tables. No file is read at run time.

import { createHash } from 'node:crypto'
import type { ContactRow, QualifyStatus } from '../core/types.js'
import { contactKey, contactValue, defineAor, type SimAor } from './registrar.js'

/** What a sim starts with: the astdb rows of registrar/contact, the AORs, and qualify states that are not NonQualified. */
export interface SimSeed {
  rows: ContactRow[]
  aors: SimAor[]
  qualify?: Record<string, QualifyStatus>
}

/** When the lab was captured (2026-11-23T18:31:17Z): the captured expiration_times are relative to it. */
export const CAPTURED_AT = 1795458677

/** The lab's pjsip.conf sets maximum_expiration = 3600 on every AOR. */
function labAor(name: string, settings: Partial<Omit<SimAor, 'name'>>): SimAor {
  return defineAor(name, { maximumExpiration: 3600, ...settings })
}

interface ContactSpec {
  aor: string
  viaAddr: string
  viaPort: number
  userAgent: string
  expirationTime: number
  callId: string
  /** Default: `sip:<aor>@<viaAddr>:<viaPort>`. */
  uri?: string
  path?: string
  qualifyFrequency?: number
}

/** A row as Asterisk stores a contact registered to an AOR with the lab's qualify defaults. */
function contactRow(spec: ContactSpec): ContactRow {
  const uri = spec.uri ?? `sip:${spec.aor}@${spec.viaAddr}:${spec.viaPort}`
  const value = contactValue({
    via_addr: spec.viaAddr,
    qualify_timeout: '3.000000',
    qualify_2xx_only: 'false',
    call_id: spec.callId,
    reg_server: '',
    prune_on_boot: 'no',
    path: spec.path ?? '',
    endpoint: spec.aor,
    via_port: String(spec.viaPort),
    authenticate_qualify: 'no',
    uri,
    qualify_frequency: String(spec.qualifyFrequency ?? 0),
    user_agent: spec.userAgent,
    expiration_time: String(spec.expirationTime),
    outbound_proxy: '',
  })
  return { key: contactKey(spec.aor, uri), value }
}

// ---------------------------------------------------------------------------------------------
// The captured lab

const LAB_ADDR = '127.0.0.1'

const CAPTURED_AORS: readonly SimAor[] = [
  labAor('FAP003', { maxContacts: 2 }),
  labAor('alice', { maxContacts: 1 }),
  labAor('bob', { maxContacts: 2 }),
  labAor('carol', { maxContacts: 3, qualifyFrequency: 10 }),
  labAor('dave', { maxContacts: 1, supportPath: true }),
  labAor('erin', { maxContacts: 2, removeExisting: true }),
  labAor('phone1', { maxContacts: 4 }),
  labAor('phone2', { maxContacts: 1, removeExisting: true }),
  labAor('wizphone', { maxContacts: 2, auth: 'wizphone-iauth', definedIn: 'pjsip_wizard.conf' }),
]

type CapturedContact = Omit<ContactSpec, 'viaAddr' | 'callId'> & { callId: string }

/** The 13 rows of `database show registrar/contact` (cli_database_show_registrar_contact.txt), call ids without `@127.0.0.1`. */
const CAPTURED_CONTACTS: readonly CapturedContact[] = [
  {
    aor: 'FAP003',
    viaPort: 5072,
    callId: '828f152dda4a245d748f9f68',
    userAgent: 'Grandstream GXP2130 1.0.11.3',
    expirationTime: 1795462224,
  },
  {
    aor: 'FAP003',
    viaPort: 5071,
    callId: '6b14823b7eca671364c78fd5',
    userAgent: 'Grandstream GXP2130 1.0.11.3',
    expirationTime: 1795462224,
  },
  {
    aor: 'alice',
    viaPort: 5091,
    callId: '3eae0d7f960958b72f8885c3',
    userAgent: 'Yealink SIP-T46S 66.86.0.15',
    expirationTime: 1795462226,
  },
  {
    aor: 'bob',
    viaPort: 5092,
    callId: '32281c7397f976c3b9950805',
    userAgent: 'PolycomVVX-VVX_411-UA/6.4.3.5018',
    expirationTime: 1795462226,
  },
  {
    aor: 'bob',
    viaPort: 5093,
    callId: '6c858fa930921da8004621a6',
    userAgent: 'Cisco/SPA504G-7.6.2f',
    expirationTime: 1795460426,
  },
  {
    aor: 'carol',
    viaPort: 5094,
    callId: '64a3c9e0280999d366ac3ee8',
    userAgent: 'MicroSIP/3.21.3',
    expirationTime: 1795462227,
    qualifyFrequency: 10,
  },
  {
    aor: 'dave',
    viaPort: 5099,
    callId: '233374d8804b2b92759f2b68',
    userAgent: 'OBIHAI/OBi202-3.2.2.5921EX',
    expirationTime: 1795462228,
    uri: 'sip:dave@127.0.0.1:5099;user=phone;transport=udp;ob;line=k7f3a9c;x-esc=a%3bb%40c%20d;gr=urn:uuid:0f3c5a2e',
    path:
      '<sip:127.0.0.1:5099;transport=udp;lr;x-route=a1b2c3d4e5f6>,<sip:sbc-02.core.lab.invalid;lr;ftag=7e1c9a>,' +
      '<sip:edge-1.pop-ams.lab.invalid:5070;lr;received=sip:127.0.0.1:61234>,<sip:lb.lab.invalid;lr;did=4a7.b2e1>',
  },
  {
    aor: 'erin',
    viaPort: 5096,
    callId: '64e4289796fd24a5c328c73f',
    userAgent: 'Grandstream GXP1628 1.0.7.13',
    expirationTime: 1795462227,
  },
  {
    aor: 'erin',
    viaPort: 5097,
    callId: 'c36a4f7ddea70d5e5e3c00d2',
    userAgent: 'Grandstream GXP1628 1.0.7.13',
    expirationTime: 1795462228,
  },
  {
    aor: 'phone1',
    viaPort: 5082,
    callId: '03b0918914cead2c531e9a9e',
    userAgent: 'Linphone/5.2.5 (belle-sip/5.2.0)',
    expirationTime: 1795462225,
    uri: 'sip:phone1@127.0.0.1:5082;transport=udp',
  },
  {
    aor: 'phone1',
    viaPort: 5083,
    callId: '36d6a4a72676e9e6c0ba58ba',
    userAgent: 'Bria iOS release 6.8.0',
    expirationTime: 1795462226,
    uri: 'sip:phone1@127.0.0.1:5083;transport=UDP;rinstance=4f5d2a8c1b9e7d03',
  },
  {
    aor: 'phone1',
    viaPort: 5081,
    callId: '1988c87a2243a1ef723813f1',
    userAgent: 'Zoiper rv2.10.20.4',
    expirationTime: 1795462225,
  },
  {
    aor: 'wizphone',
    viaPort: 5098,
    callId: '51b05a993f744e5d523b8638',
    userAgent: 'Grandstream GXP2170 1.0.11.3',
    expirationTime: 1795462228,
  },
]

/** The captured lab with every expiration_time moved by `now - CAPTURED_AT`: it looks, relative to `now`, as it did when captured. */
export function captureSeed({ now }: { now: number }): SimSeed {
  const rows = CAPTURED_CONTACTS.map((contact) =>
    contactRow({
      ...contact,
      viaAddr: LAB_ADDR,
      callId: `${contact.callId}@${LAB_ADDR}`,
      expirationTime: contact.expirationTime - CAPTURED_AT + now,
    }),
  )
  const carol = rows.find((row) => row.key.startsWith('carol;@'))
  return {
    rows,
    aors: CAPTURED_AORS.map((aor) => ({ ...aor })),
    qualify: carol ? { [carol.key]: 'Unreachable' } : {},
  }
}

// ---------------------------------------------------------------------------------------------
// The lockout of `pjctl demo`

function md5Hex(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

/** A contact whose call id is derived from its address, for hand-written seeds. */
function demoContact(spec: Omit<ContactSpec, 'callId'>): ContactRow {
  const callId = `${md5Hex(`${spec.aor}|${spec.viaAddr}|${spec.viaPort}`).slice(0, 24)}@${spec.viaAddr}`
  return contactRow({ ...spec, callId })
}

/**
 * FAP003 (max_contacts 2, remove_existing no) full with two contacts of ONE Grandstream: it came
 * back from a new port without unregistering, so its older contact still holds a slot until it
 * expires and the phone's next REGISTER from yet another port gets 403. Next to it, healthy AORs.
 */
export function lockoutSeed({ now }: { now: number }): SimSeed {
  const grandstream = 'Grandstream GXP2130 1.0.11.3'
  const rows = [
    demoContact({
      aor: 'FAP003',
      viaAddr: '192.0.2.16',
      viaPort: 5060,
      userAgent: grandstream,
      expirationTime: now + 1260,
    }),
    demoContact({
      aor: 'FAP003',
      viaAddr: '192.0.2.16',
      viaPort: 5062,
      userAgent: grandstream,
      expirationTime: now + 3480,
    }),
    demoContact({
      aor: 'alice',
      viaAddr: '192.0.2.21',
      viaPort: 5060,
      userAgent: 'Yealink SIP-T46S 66.86.0.15',
      expirationTime: now + 2950,
    }),
    demoContact({
      aor: 'phone1',
      viaAddr: '192.0.2.31',
      viaPort: 52044,
      uri: 'sip:phone1@192.0.2.31:52044;transport=UDP;rinstance=9c1e5f0a7b3d2e41',
      userAgent: 'Zoiper rv2.10.20.4',
      expirationTime: now + 3310,
    }),
    demoContact({
      aor: 'phone1',
      viaAddr: '192.0.2.32',
      viaPort: 5060,
      uri: 'sip:phone1@192.0.2.32:5060;transport=udp',
      userAgent: 'Linphone/5.2.5 (belle-sip/5.2.0)',
      expirationTime: now + 1720,
    }),
    demoContact({
      aor: 'erin',
      viaAddr: '192.0.2.41',
      viaPort: 5060,
      userAgent: 'Grandstream GXP1628 1.0.7.13',
      expirationTime: now + 2400,
    }),
  ]
  const aors = [
    labAor('FAP003', { maxContacts: 2 }),
    labAor('alice', { maxContacts: 2 }),
    labAor('erin', { maxContacts: 2, removeExisting: true }),
    labAor('phone1', { maxContacts: 4 }),
  ]
  return { rows, aors }
}

// ---------------------------------------------------------------------------------------------
// Big labs for the benchmark

export interface GenerateOptions {
  /** How many contacts (astdb rows). */
  count: number
  now: number
  /** How many AORs (`ext1000`, `ext1001`, …); default count / 2. */
  aors?: number
  /** How many AORs are full (a lockout: a superseded pair at max_contacts, remove_existing no); default a tenth. */
  fullAors?: number
}

interface Device {
  userAgent: string
  soft: boolean
}

/** Long, real-world-shaped User-Agent strings; `soft` ones register with `;rinstance=`. */
const DEVICES: readonly [Device, ...Device[]] = [
  {
    userAgent:
      'Yealink SIP-T54W 96.86.0.100 (Linux 4.9.11; hw 96.0.0.128.0.0.0; locale en_US; xml-browser 3.2)',
    soft: false,
  },
  {
    userAgent:
      'Grandstream GXP2170 1.0.11.3 (build 2023-11-02, hw V1.7A, boot 1.0.11.1, prov 1.0.11.3)',
    soft: false,
  },
  {
    userAgent:
      'PolycomVVX-VVX_411-UA/6.4.3.5018 (PolycomUCS; Linux; OBi-compat; cfg-rev 42; region EU)',
    soft: false,
  },
  {
    userAgent: 'Cisco/SPA504G-7.6.2f (SPA504G; MAC 0012abcdef01; Serial CBT123456789; HW 1.0.4)',
    soft: false,
  },
  {
    userAgent:
      'Zoiper rv2.10.20.4 (Windows 10 Pro 22H2; x64; build 19045.4651; libzrtp 2.3.1; pjsip 2.13)',
    soft: true,
  },
  {
    userAgent:
      'Bria 6 release 6.7.1 stamp 115047 (macOS 14.5 Sonoma; arm64; CounterPath SDK 5.9.2)',
    soft: true,
  },
  {
    userAgent:
      'Linphone/5.2.5 (belle-sip/5.2.0) Android 14; Pixel 8 Pro; LinphoneSDK 5.3.41 (master/release)',
    soft: true,
  },
  {
    userAgent:
      'MicroSIP/3.21.3 (Windows 11 Home 23H2; x64; PJSIP 2.14-dev; opus 1.4; G.729 disabled)',
    soft: true,
  },
]

/** mulberry32: a small, fast, deterministic PRNG. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** How many contacts each AOR holds: at least one each (two for the full ones), the rest spread at random. */
function contactsPerAor(count: number, full: boolean[], random: () => number): number[] {
  const counts = full.map((isFull): number => (isFull ? 2 : 1))
  let remaining = count - counts.reduce((sum, n) => sum + n, 0)
  for (let i = counts.length - 1; remaining < 0 && i >= 0; i--) {
    const n = counts[i] ?? 1
    const cut = Math.min(n - 1, -remaining)
    counts[i] = n - cut
    remaining += cut
  }
  for (; remaining > 0; remaining--) {
    const i = Math.floor(random() * counts.length)
    counts[i] = (counts[i] ?? 0) + 1
  }
  return counts
}

/**
 * A realistic registrar/contact table of `count` rows over AORs `ext1000`…, deterministic for
 * given options: the full AORs hold a superseded pair (one phone, one address, two ports, the older
 * contact expiring sooner) and sit at max_contacts; some other AORs hold a superseded pair too
 * (below their limit, or with remove_existing); about 1 % of the contacts are expired.
 */
export function generateRows({ count, now, aors, fullAors }: GenerateOptions): {
  rows: ContactRow[]
  aors: SimAor[]
} {
  const aorCount = Math.max(1, Math.min(aors ?? Math.ceil(count / 2), count))
  const fullCount = Math.min(fullAors ?? Math.floor(aorCount / 10), aorCount)
  const random = prng(count * 7919 + aorCount * 31 + fullCount)
  const hex = (length: number) => {
    let text = ''
    while (text.length < length)
      text += Math.floor(random() * 0x100000000)
        .toString(16)
        .padStart(8, '0')
    return text.slice(0, length)
  }
  // exactly fullCount AORs, spread evenly
  const fullBefore = (i: number) => Math.floor((i * fullCount) / aorCount)
  const full = Array.from({ length: aorCount }, (_, i) => fullBefore(i + 1) > fullBefore(i))
  const perAor = contactsPerAor(count, full, random)

  const rows: ContactRow[] = []
  const aorConfigs: SimAor[] = []
  for (const [i, isFull] of full.entries()) {
    const aor = `ext${1000 + i}`
    const n = perAor[i] ?? 0
    const superseded = n >= 2 && (isFull || i % 5 === 2)
    const removeExisting = !isFull && i % 7 === 3
    const maxContacts = isFull || removeExisting ? n : n + 1 + (i % 3)
    aorConfigs.push(labAor(aor, { maxContacts, removeExisting }))

    const site = `10.${(i >> 8) & 255}.${i & 255}`
    let newest = 0
    for (let j = 0; j < n; j++) {
      const pairedOlder = superseded && j === 1
      const phone = DEVICES[(i + (pairedOlder ? 0 : j)) % DEVICES.length] ?? DEVICES[0]
      const viaAddr = pairedOlder || j === 0 ? `${site}.10` : `${site}.${10 + j}`
      const viaPort = phone.soft ? 40000 + Math.floor(random() * 20000) : 5060 + 2 * j
      const uri = phone.soft
        ? `sip:${aor}@${viaAddr}:${viaPort};transport=UDP;rinstance=${hex(16)}`
        : `sip:${aor}@${viaAddr}:${viaPort}`
      let expirationTime: number
      if (superseded && j === 0) expirationTime = newest = now + 700 + Math.floor(random() * 2900)
      else if (pairedOlder)
        expirationTime = newest - 600 - Math.floor(random() * (newest - now - 630))
      else if (!isFull && random() < 0.01) expirationTime = now - 30 - Math.floor(random() * 600)
      else expirationTime = now + 60 + Math.floor(random() * 3540)
      rows.push(
        contactRow({
          aor,
          viaAddr,
          viaPort,
          uri,
          userAgent: phone.userAgent,
          expirationTime,
          callId: `${hex(24)}@${viaAddr}`,
        }),
      )
    }
  }
  return { rows, aors: aorConfigs }
}

// ---------------------------------------------------------------------------------------------
// Where registrations come from (`pjctl sources`, `pjctl doctor`)

/** The office NAT of sourcesSeed: 30 contacts over 10 AORs. */
export const OFFICE_NAT = '203.0.113.50'

export interface SourcesSeedOptions {
  now: number
  /** Include ext199's contact, whose AOR is not configured (default true). */
  orphan?: boolean
}

/**
 * A registrar behind which `sources` and `doctor` have something to say:
 * - ext101…ext110 (max_contacts 6): a desk phone, a softphone and a mobile app each, all 30
 *   from one office NAT (203.0.113.50); ext105's desk phone holds 5,000 s while the AORs allow
 *   3,600; ext110 has remove_unavailable=yes without qualify_frequency.
 * - FAP003 (max_contacts 2, remove_existing no): a Grandstream that came back from a new port,
 *   its old contact superseded: full.
 * - wave1 (max_contacts 3): a Grandstream Wave with a 60 s Register Expiration that re-registers
 *   every 30 s from a new port: the contact it left 30 s ago is superseded.
 * - alice: max_contacts 1 without remove_existing, one Yealink.
 * - ext199: a contact in astdb whose AOR is no longer configured (orphaned).
 */
export function sourcesSeed({ now, orphan = true }: SourcesSeedOptions): SimSeed {
  const rows: ContactRow[] = []
  const aors: SimAor[] = []
  const phones = [
    { userAgent: 'Yealink SIP-T46S 66.86.0.15', soft: false },
    { userAgent: 'Zoiper rv2.10.20.4', soft: true },
    { userAgent: 'Linphone/5.2.5 (belle-sip/5.2.0)', soft: true },
  ]
  for (let i = 1; i <= 10; i++) {
    const aor = `ext${100 + i}`
    aors.push(labAor(aor, { maxContacts: 6, ...(i === 10 ? { removeUnavailable: true } : {}) }))
    phones.forEach((phone, j) => {
      const viaPort = phone.soft ? 40000 + i * 10 + j : 5060 + i
      rows.push(
        demoContact({
          aor,
          viaAddr: OFFICE_NAT,
          viaPort,
          userAgent: phone.userAgent,
          uri: phone.soft
            ? `sip:${aor}@${OFFICE_NAT}:${viaPort};transport=UDP;rinstance=${md5Hex(`${aor}${j}`).slice(0, 16)}`
            : undefined,
          expirationTime: i === 5 && j === 0 ? now + 5000 : now + 600 + i * 60 + j * 7,
        }),
      )
    })
  }
  const grandstream = 'Grandstream GXP2130 1.0.11.3'
  aors.push(labAor('FAP003', { maxContacts: 2 }))
  rows.push(
    demoContact({
      aor: 'FAP003',
      viaAddr: '198.51.100.16',
      viaPort: 5060,
      userAgent: grandstream,
      expirationTime: now + 1260,
    }),
  )
  rows.push(
    demoContact({
      aor: 'FAP003',
      viaAddr: '198.51.100.16',
      viaPort: 5062,
      userAgent: grandstream,
      expirationTime: now + 3480,
    }),
  )
  const wave = 'Grandstream Wave 1.0.5.12'
  aors.push(labAor('wave1', { maxContacts: 3 }))
  rows.push(
    demoContact({
      aor: 'wave1',
      viaAddr: '198.51.100.30',
      viaPort: 40712,
      userAgent: wave,
      expirationTime: now + 25,
    }),
  )
  rows.push(
    demoContact({
      aor: 'wave1',
      viaAddr: '198.51.100.30',
      viaPort: 40788,
      userAgent: wave,
      expirationTime: now + 55,
    }),
  )
  aors.push(labAor('alice', { maxContacts: 1 }))
  rows.push(
    demoContact({
      aor: 'alice',
      viaAddr: '192.0.2.21',
      viaPort: 5060,
      userAgent: 'Yealink SIP-T46S 66.86.0.15',
      expirationTime: now + 2950,
    }),
  )
  if (orphan)
    rows.push(
      demoContact({
        aor: 'ext199',
        viaAddr: '192.0.2.99',
        viaPort: 5060,
        userAgent: 'Polycom/6.4.3.5018',
        expirationTime: now + 1800,
      }),
    )
  return { rows, aors }
}
