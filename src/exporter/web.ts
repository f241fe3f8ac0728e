// The exporter's web config (--web-config, exporter-toolkit's format): said in one phrase for the
// start-up line, and re-read when it or a file it names changes, or on SIGHUP.

import { unwatchFile, watchFile, type Stats } from 'node:fs'
import { loadWebConfig, type WebConfig } from '../http/webconfig.js'

/** "TLS, basic auth (2 users)" */
export function describeWeb(web: WebConfig): string {
  const tls = web.tls
    ? `TLS${web.tls.clientAuth === 'NoClientCert' ? '' : ` (client certificates: ${web.tls.clientAuth})`}`
    : 'no TLS'
  return `${tls}, ${web.users.size ? `basic auth (${web.users.size} user(s))` : 'no basic auth'}`
}

/**
 * Re-reads the web config when it or a file it names changes (polled every second, as a file edited in
 * place, replaced by rename or renewed by certbot all show), and on SIGHUP. A file that no longer loads
 * is logged, and every request is then answered 500 until it loads again (as exporter-toolkit fails
 * closed); a change that would turn TLS on or off takes a restart and is refused.
 */
export function watchWebConfig(
  path: string,
  first: WebConfig,
  deps: {
    log: { info(message: string): void; warn(message: string): void }
    /** Calls `listener` on each SIGHUP until the returned function is called. */
    onHangup?(listener: () => void): () => void
  },
  apply: (next: WebConfig | Error) => void,
): () => void {
  let watched: string[] = []
  let inForce = first
  let reloading: Promise<void> | null = null
  let again = false
  const watch = (files: readonly string[]): void => {
    for (const file of watched) unwatchFile(file, onChange)
    watched = [...new Set(files)]
    for (const file of watched) watchFile(file, { interval: 1000, persistent: false }, onChange)
  }
  const reload = (why: string): void => {
    if (reloading) {
      again = true
      return
    }
    reloading = (async () => {
      try {
        const next = await loadWebConfig(path)
        if (Boolean(next.tls) !== Boolean(inForce.tls)) {
          const error = new Error(
            `web config ${path}: ${next.tls ? 'turns TLS on' : 'turns TLS off'}, which takes a restart of the exporter`,
          )
          deps.log.warn(
            `${error.message}; answering 500 until it is restarted or the file put back`,
          )
          apply(error)
          return
        }
        inForce = next
        apply(next)
        watch(next.files)
        deps.log.info(`pjctl exporter: web config ${path} reloaded (${why}): ${describeWeb(next)}`)
      } catch (error) {
        deps.log.warn(`${(error as Error).message}; answering 500 until it loads again`)
        apply(error as Error)
      }
    })().finally(() => {
      reloading = null
      if (again) {
        again = false
        reload(why)
      }
    })
  }
  function onChange(current: Stats, previous: Stats): void {
    if (
      current.mtimeMs !== previous.mtimeMs ||
      current.ino !== previous.ino ||
      current.size !== previous.size
    )
      reload('changed')
  }
  watch(first.files)
  const offHangup = deps.onHangup?.(() => reload('SIGHUP')) ?? (() => undefined)
  return () => {
    offHangup()
    for (const file of watched) unwatchFile(file, onChange)
  }
}
