// The security events (read class `security`) a digest-authenticated REGISTER makes Asterisk send
// (main/security_events.c, res/res_pjsip/security_events.c, res_pjsip_registrar.c):
// - the first REGISTER is challenged: ChallengeSent;
// - the answer to the challenge: SuccessfulAuth, or ChallengeResponseFailed for a wrong password;
// - the registrar's refusal of an authenticated REGISTER: FailedACL (ACLName says why) or
//   RequestNotSupported (RequestType says why).

import { block, type Header } from './ami.js'
import type { RegisterRequest, RegisterResult } from './registrar.js'

/** How the REGISTER's credentials fare. */
export type SimAuth = 'ok' | 'wrong-password'

/** The registrar's refusal words (res_pjsip_registrar.c) for a result code and its reason text. */
function refusalOf(
  result: RegisterResult,
): { event: string; header: string; value: string } | null {
  if (result.code === 200) return null
  if (result.code === 404)
    return {
      event: 'RequestNotSupported',
      header: 'RequestType',
      value: 'registrar_requested_aor_not_found',
    }
  if (result.reason?.includes('has no configured max_contacts'))
    return {
      event: 'RequestNotSupported',
      header: 'RequestType',
      value: 'registrar_attempt_without_registration_permitted',
    }
  return {
    event: 'FailedACL',
    header: 'ACLName',
    value: 'registrar_attempt_exceeds_maximum_configured_contacts',
  }
}

export interface SecurityContext {
  request: RegisterRequest
  /** LocalAddress: where Asterisk received the REGISTER (`IPV4/UDP/127.0.0.1/5060`). */
  local: string
  /** Microseconds since the epoch, for EventTV. */
  nowUs: number
  callId: string
}

function common(name: string, severity: string, ctx: SecurityContext, version = '1'): Header[] {
  const seconds = Math.floor(ctx.nowUs / 1e6)
  const micros = String(ctx.nowUs % 1e6).padStart(6, '0')
  const tv = `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${micros}+0000`
  return [
    ['Event', name],
    ['Privilege', 'security,all'],
    ['EventTV', tv],
    ['Severity', severity],
    ['Service', 'PJSIP'],
    ['EventVersion', version],
    ['AccountID', ctx.request.endpoint ?? ctx.request.aor],
    ['SessionID', ctx.callId],
    ['LocalAddress', ctx.local],
    ['RemoteAddress', `IPV4/UDP/${ctx.request.viaAddr}/${ctx.request.viaPort}`],
  ]
}

/** The security events before the registrar runs: the challenge and its answer. */
export function authEvents(ctx: SecurityContext, auth: SimAuth): string[] {
  const challenge = 'a1b2c3d4'
  const events = [
    block([...common('ChallengeSent', 'Informational', ctx), ['Challenge', challenge]]),
  ]
  if (auth === 'wrong-password')
    events.push(
      block([
        ...common('ChallengeResponseFailed', 'Error', ctx),
        ['Challenge', challenge],
        ['Response', 'f'.repeat(32)],
        ['ExpectedResponse', ''],
      ]),
    )
  else
    events.push(block([...common('SuccessfulAuth', 'Informational', ctx), ['UsingPassword', '1']]))
  return events
}

/** The security event of a refused REGISTER (none for an accepted one). */
export function refusalEvents(ctx: SecurityContext, result: RegisterResult): string[] {
  const refusal = refusalOf(result)
  if (!refusal) return []
  return [block([...common(refusal.event, 'Error', ctx), [refusal.header, refusal.value]])]
}
