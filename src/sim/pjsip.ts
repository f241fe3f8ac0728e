// The PJSIP actions of res_pjsip (location.c, pjsip_options.c, pjsip_configuration.c): AorList,
// ContactList, EndpointDetail and friends, built from the astdb contents and the AOR configs.

import { block, event, listComplete, listStart, parseHeader, response, type Header } from './ami.js'
import type { ActionContext } from './context.js'
import type { ContactCreated, ContactRemoved, SimAor, SimContact } from './registrar.js'

const bool = (value: boolean) => String(value)

/** sip_aor_to_ami: the AOR's sorcery fields, in the order Asterisk 22 prints them. */
function aorFields(aor: SimAor, contacts: SimContact[]): Header[] {
  return [
    ['ObjectType', 'aor'],
    ['ObjectName', aor.name],
    ['MinimumExpiration', String(aor.minimumExpiration)],
    ['DefaultExpiration', String(aor.defaultExpiration)],
    ['QualifyTimeout', aor.qualifyTimeout.toFixed(6)],
    ['Qualify2xxOnly', bool(aor.qualify2xxOnly)],
    ['Mailboxes', aor.mailboxes],
    ['SupportPath', bool(aor.supportPath)],
    ['RemoveUnavailable', bool(aor.removeUnavailable)],
    ['VoicemailExtension', aor.voicemailExtension],
    ['MaxContacts', String(aor.maxContacts)],
    ['AuthenticateQualify', bool(aor.authenticateQualify)],
    ['Contacts', contacts.map((contact) => `${aor.name}/${contact.fields.uri ?? ''}`).join(',')],
    ['MaximumExpiration', String(aor.maximumExpiration)],
    ['QualifyFrequency', String(aor.qualifyFrequency)],
    ['RemoveExisting', bool(aor.removeExisting)],
    ['OutboundProxy', aor.outboundProxy],
  ]
}

const camelCache = new Map<string, string>()

/** ast_to_camel_case: `qualify_2xx_only` → `Qualify2xxOnly`. */
function camelCase(field: string): string {
  let camel = camelCache.get(field)
  if (camel === undefined) {
    camel = field.replace(/(?:^|_)(.)/g, (_match, char: string) => char.toUpperCase())
    camelCache.set(field, camel)
  }
  return camel
}

/** The qualify state as ContactList and ContactStatusDetail print it. */
function qualifyHeaders(ctx: ActionContext, key: string): Header[] {
  const qualify = ctx.sim.registrar.qualifyOf(key)
  return [
    ['Status', qualify.status],
    ['RoundtripUsec', qualify.status === 'Reachable' ? String(qualify.roundtripUsec) : 'N/A'],
  ]
}

/** A list action's answer: the start, the (possibly thinned) items, the Complete event with the real count. */
function listAnswer(
  ctx: ActionContext,
  startMessage: string,
  items: string[],
  completeEvent: string,
): string[] {
  return [
    listStart(ctx.actionId, startMessage),
    ...ctx.keep(items),
    ...listComplete(completeEvent, ctx.actionId, items.length),
  ]
}

export function pjsipShowContacts(ctx: ActionContext): string[] {
  const contacts = ctx.sim.registrar.allContacts()
  if (contacts.length === 0) return [response('Error', ctx.actionId, 'No Contacts found\n')]
  const items = contacts.map((contact) => {
    const fields: Header[] = [
      ['ObjectType', 'contact'],
      ['ObjectName', contact.key],
    ]
    for (const [name, value] of Object.entries(contact.fields))
      fields.push([camelCase(name), value])
    return event('ContactList', ctx.actionId, [...fields, ...qualifyHeaders(ctx, contact.key)])
  })
  return listAnswer(
    ctx,
    'A listing of Contacts follows, presented as ContactList events',
    items,
    'ContactListComplete',
  )
}

export function pjsipShowAors(ctx: ActionContext): string[] {
  const aors = ctx.sim.registrar.sortedAors()
  if (aors.length === 0) return [response('Error', ctx.actionId, 'No AORs found\n')]
  const contactsByAor = ctx.sim.registrar.contactsByAor()
  const items = aors.map((aor) =>
    event('AorList', ctx.actionId, aorFields(aor, contactsByAor.get(aor.name) ?? [])),
  )
  return listAnswer(
    ctx,
    'A listing of AORs follows, presented as AorList events',
    items,
    'AorListComplete',
  )
}

/** The lab endpoint's settings (pjsipshowendpoint_FAP003.txt) after ObjectName; Aors and Auth are the AOR's. */
const ENDPOINT_DETAIL = `RpidImmediate: false
Webrtc: no
Ignore183WithoutSdp: false
SendAoc: false
DeviceStateBusyAt: 0
T38UdptlMaxdatagram: 0
CodecPrefsIncomingAnswer: prefer:pending, operation:intersect, keep:all, transcode:allow
SecurityNegotiation: no
DtlsRekey: 0
RtpPortEnd: 0
NamedPickupGroup: 
DirectMediaMethod: invite
SendRpid: false
PickupGroup: 
SdpSession: Asterisk
DtlsVerify: No
MessageContext: 
Tenantid: 
Mailboxes: 
RecordOnFeature: automixmon
DtlsPrivateKey: 
DtlsFingerprint: SHA-256
OverlapContext: 
OutgoingCallOfferPref: remote_merge
RtpPortStart: 0
FromDomain: 
TimersSessExpires: 1800
NamedCallGroup: 
DtlsCipher: 
MediaEncryptionOptimistic: false
SuppressQ850ReasonHeaders: false
Aors: FAP003
IdentifyBy: username,ip
CalleridPrivacy: allowed_not_screened
MwiSubscribeReplacesUnsolicited: no
CosAudio: 0
FollowEarlyMediaFork: true
Context: from-lab
RtpSymmetric: false
Transport: 
MohSuggest: default
T38Udptl: false
FaxDetect: false
T38BindUdptlToMediaAddress: false
TosVideo: 0
SrtpTag32: false
ReferBlindProgress: true
MaxAudioStreams: 1
Bundle: false
UseAvpf: false
CallGroup: 
SendConnectedLine: yes
FaxDetectTimeout: 0
SdpOwner: -
ForceRport: true
CalleridTag: 
RtpTimeoutHold: 0
SuppressMohOnSendonly: false
UsePtime: false
MediaAddress: 
VoicemailExtension: 
RtpTimeout: 0
StirShaken: no
SetVar: 
ContactAcl: 
PreferredCodecOnly: false
GeolocOutgoingCallProfile: 
ForceAvp: false
RecordOffFeature: automixmon
FromUser: 
SendDiversion: true
SendHistoryInfo: false
T38UdptlIpv6: false
ToneZone: 
Language: 
AllowSubscribe: true
RtpIpv6: false
Callerid: <unknown>
MohPassthrough: false
CosVideo: 0
DtlsAutoGenerateCert: No
AsymmetricRtpCodec: false
GeolocIncomingCallProfile: 
IceSupport: false
AggregateMwi: true
OneTouchRecording: false
MwiFromUser: 
RedirectMethod: user
Accountcode: 
CodecPrefsOutgoingAnswer: prefer:pending, operation:intersect, keep:all, transcode:allow
Allow: (ulaw|alaw)
RewriteContact: false
UserEqPhone: false
RtpEngine: asterisk
FollowRedirectMethods: 
SubscribeContext: 
NotifyEarlyInuseRinging: false
IncomingMwiMailbox: 
IncomingCallOfferPref: local
AllowUnauthenticatedOptions: false
Auth: FAP003
DirectMediaGlareMitigation: none
TrustIdInbound: false
StirShakenProfile: 
BindRtpToMediaAddress: false
DisableDirectMediaOnNat: false
MediaEncryption: no
MediaUseReceivedTransport: false
AllowOverlap: true
DtmfMode: rfc4733
OutboundAuth: 
TosAudio: 0
DtlsCertFile: 
DtlsCaPath: 
DtlsSetup: active
ConnectedLineMethod: invite
G726NonStandard: false
100rel: yes
Timers: yes
DirectMedia: false
Acl: 
TimersMinSe: 90
TrustIdOutbound: false
SubMinExpiry: 0
RtcpMux: false
MaxVideoStreams: 1
AcceptMultipleSdpAnswers: false
CodecPrefsIncomingOffer: prefer:pending, operation:intersect, keep:all, transcode:allow
CodecPrefsOutgoingOffer: prefer:pending, operation:union, keep:all, transcode:allow
TrustConnectedLine: yes
SendPai: false
RtpKeepalive: 0
T38UdptlEc: none
T38UdptlNat: false
AllowTransfer: true
DtlsCaFile: 
OutboundProxy: 
InbandProgress: false`
  .split('\n')
  .map(parseHeader)

/** The endpoint's device state: in use by nobody, and reachable through a contact that is not Unreachable. */
function deviceState(ctx: ActionContext, contacts: SimContact[]): string {
  const reachable = contacts.some(
    (contact) => ctx.sim.registrar.qualifyOf(contact.key).status !== 'Unreachable',
  )
  return reachable ? 'Not in use' : 'Unavailable'
}

function endpointDetail(ctx: ActionContext, aor: SimAor, contacts: SimContact[]): string {
  const settings = ENDPOINT_DETAIL.map(([name, value]): Header => {
    if (name === 'Aors') return [name, aor.name]
    if (name === 'Auth') return [name, aor.auth]
    return [name, value]
  })
  return event('EndpointDetail', ctx.actionId, [
    ['ObjectType', 'endpoint'],
    ['ObjectName', aor.name],
    ...settings,
    ['DeviceState', deviceState(ctx, contacts)],
    ['ActiveChannels', '0'],
  ])
}

function authDetail(ctx: ActionContext, aor: SimAor): string {
  return event('AuthDetail', ctx.actionId, [
    ['ObjectType', 'auth'],
    ['ObjectName', aor.auth],
    ['OauthSecret', ''],
    ['PasswordDigest', ''],
    ['SupportedAlgorithmsUas', 'MD5'],
    ['RefreshToken', ''],
    ['Username', aor.name],
    ['Md5Cred', ''],
    ['Realm', ''],
    ['AuthType', 'userpass'],
    ['Password', `${aor.name}-pass`],
    ['SupportedAlgorithmsUac', 'MD5'],
    ['NonceLifetime', '32'],
    ['OauthClientid', ''],
    ['EndpointName', aor.name],
  ])
}

function aorDetail(ctx: ActionContext, aor: SimAor, contacts: SimContact[]): string {
  return event('AorDetail', ctx.actionId, [
    ...aorFields(aor, contacts),
    ['TotalContacts', String(contacts.length)],
    ['ContactsRegistered', String(contacts.length)],
    ['EndpointName', aor.name],
  ])
}

/** ast_sip_format_contact_ami. */
function contactStatusDetail(ctx: ActionContext, aor: SimAor, contact: SimContact): string {
  const field = (name: string) => contact.fields[name] ?? ''
  const flag = (name: string) => (['yes', 'true'].includes(field(name)) ? '1' : '0')
  const headers: Header[] = [
    ['AOR', aor.name],
    ['URI', field('uri')],
    ['UserAgent', field('user_agent')],
    ['RegExpire', String(contact.expirationTime)],
  ]
  if (field('via_addr')) {
    const port = Number(field('via_port'))
    headers.push(['ViaAddress', port ? `${field('via_addr')}:${port}` : field('via_addr')])
  }
  if (field('call_id')) headers.push(['CallID', field('call_id')])
  headers.push(
    ...qualifyHeaders(ctx, contact.key),
    ['EndpointName', aor.name],
    ['ID', contact.key],
    ['AuthenticateQualify', flag('authenticate_qualify')],
    ['OutboundProxy', field('outbound_proxy')],
    ['Path', field('path')],
    ['QualifyFrequency', String(Number(field('qualify_frequency')) || 0)],
    ['QualifyTimeout', (Number(field('qualify_timeout')) || 0).toFixed(3)],
    ['Qualify2xxOnly', flag('qualify_2xx_only')],
  )
  return event('ContactStatusDetail', ctx.actionId, headers)
}

export function pjsipShowEndpoint(ctx: ActionContext): string[] {
  const name = ctx.request.get('Endpoint').replace(/^pjsip\//i, '')
  if (!name)
    return [response('Error', ctx.actionId, 'PJSIPShowEndpoint requires an endpoint name\n')]
  const aor = ctx.sim.registrar.aors.get(name)
  if (!aor || aor.endpoint === false)
    return [response('Error', ctx.actionId, `Unable to retrieve endpoint ${name}\n`)]
  const contacts = ctx.sim.registrar.contactsOf(aor.name)
  const items = [
    endpointDetail(ctx, aor, contacts),
    authDetail(ctx, aor),
    aorDetail(ctx, aor, contacts),
    ...contacts.map((contact) => contactStatusDetail(ctx, aor, contact)),
  ]
  return listAnswer(
    ctx,
    'Following are Events for each object associated with the Endpoint',
    items,
    'EndpointDetailComplete',
  )
}

export function pjsipShowEndpoints(ctx: ActionContext): string[] {
  const aors = ctx.sim.registrar.sortedAors().filter((aor) => aor.endpoint !== false)
  if (aors.length === 0) return [response('Error', ctx.actionId, 'No endpoints found\n')]
  const contactsByAor = ctx.sim.registrar.contactsByAor()
  const items = aors.map((aor) => {
    const contacts = contactsByAor.get(aor.name) ?? []
    return event('EndpointList', ctx.actionId, [
      ['ObjectType', 'endpoint'],
      ['ObjectName', aor.name],
      ['Transport', ''],
      ['Aor', aor.name],
      ['Auths', aor.auth],
      ['OutboundAuths', ''],
      ['Contacts', contacts.map((contact) => `${aor.name}/${contact.fields.uri ?? ''},`).join('')],
      ['DeviceState', deviceState(ctx, contacts)],
      ['ActiveChannels', '0'],
    ])
  })
  return listAnswer(
    ctx,
    'A listing of Endpoints follows, presented as EndpointList events',
    items,
    'EndpointListComplete',
  )
}

/** What Asterisk sends to `system` listeners when a REGISTER creates a contact (events_during_registrations.txt). */
export function contactCreatedEvents(created: ContactCreated): string[] {
  const events: string[] = []
  if (created.firstOfAor) {
    events.push(
      block([
        ['Event', 'PeerStatus'],
        ['Privilege', 'system,all'],
        ['ChannelType', 'PJSIP'],
        ['Peer', `PJSIP/${created.endpoint}`],
        ['PeerStatus', 'Reachable'],
      ]),
    )
  }
  events.push(
    block([
      ['Event', 'ContactStatus'],
      ['Privilege', 'system,all'],
      ['URI', created.uri],
      ['ContactStatus', created.status],
      ['AOR', created.aor],
      ['EndpointName', created.endpoint],
      ['RoundtripUsec', '0'],
    ]),
  )
  return events
}

/**
 * What Asterisk 22 announces when the registrar deletes a contact the qualify side knows (an unREGISTER,
 * the expiry sweep, remove_existing): `ContactStatus: Removed` (pjsip_options.c sets rtt 0), then
 * `PeerStatus: Unreachable` when it was the AOR's last contact (seen on the lab).
 */
export function contactRemovedEvents(removed: ContactRemoved): string[] {
  const events = [
    block([
      ['Event', 'ContactStatus'],
      ['Privilege', 'system,all'],
      ['URI', removed.uri],
      ['ContactStatus', 'Removed'],
      ['AOR', removed.aor],
      ['EndpointName', removed.endpoint],
      ['RoundtripUsec', '0'],
    ]),
  ]
  if (removed.lastOfAor) {
    events.push(
      block([
        ['Event', 'PeerStatus'],
        ['Privilege', 'system,all'],
        ['ChannelType', 'PJSIP'],
        ['Peer', `PJSIP/${removed.endpoint}`],
        ['PeerStatus', 'Unreachable'],
      ]),
    )
  }
  return events
}
