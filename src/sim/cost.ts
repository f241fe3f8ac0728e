// What an action costs a real Asterisk 22.10.1, so the sim can make pjctl wait as Asterisk would.
//
// Calibrated on the lab (lab/README.md, Scale; 2-core VM, Asterisk otherwise idle):
//
//   action                          2k AORs/6k contacts  5k/15k                   10k/30k                  33k/100k
//   PJSIPShowAors                   0.16 s               0.49 s                   1.27 s                   5.6–6.7 s, 1st byte 3 s
//   PJSIPShowContacts               0.43 s (1st 0.31 s)  2.29 s (1st 1.97 s)      9.12 s (1st 8.43 s)      ~4.6 min of one core
//   GetConfig pjsip.conf type=aor   0.04 s               0.09 s                   0.18 s                   0.62 s
//
// res_pjsip collects every object into a sorted container before it writes the first event
// (location.c ami_show_aors, pjsip_options.c ami_show_contacts): the first byte grows with n².
// Then each event costs about the same. GetConfig reads and filters the file: linear, one message.
//
//   PJSIPShowAors      first byte 2.7 ns × AORs²      + 90 µs per AOR while writing
//   PJSIPShowContacts  first byte 8.76 ns × contacts² + 22 µs per contact while writing
//   GetConfig          first byte 18 µs × AORs
//
// A real Asterisk keeps computing after the client has gone, and a second such action waits for
// the core the first one holds. The sim models both: costly actions take turns on one "core"
// (SimAsterisk.busyUntil), whether or not anybody is still reading. Off unless SimOptions.cost > 0
// (1 = as measured; npm test keeps it 0 so the suite stays fast).

export interface ActionCost {
  /** ms of computing before the first byte of the answer. */
  firstByteMs: number
  /** ms spread over writing the answer (per-event cost). */
  writeMs: number
}

export interface CostCounts {
  aors: number
  contacts: number
}

const NS = 1e-6

/** The modelled cost of one action at scale 1 (null: free, as every other action in the sim). */
export function actionCost(action: string, counts: CostCounts): ActionCost | null {
  switch (action.toLowerCase()) {
    case 'pjsipshowaors':
      return { firstByteMs: 2.7 * NS * counts.aors ** 2, writeMs: 0.09 * counts.aors }
    case 'pjsipshowcontacts':
      return { firstByteMs: 8.76 * NS * counts.contacts ** 2, writeMs: 0.022 * counts.contacts }
    case 'getconfig':
      return { firstByteMs: 0.018 * counts.aors, writeMs: 0 }
    default:
      return null
  }
}
