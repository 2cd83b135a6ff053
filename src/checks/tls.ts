import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  checkServerIdentity,
  connect,
  createSecureContext,
  rootCertificates,
  type ConnectionOptions,
  type DetailedPeerCertificate,
  type PeerCertificate,
  type TLSSocket,
} from 'node:tls';
import type { CheckFactory, CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import type { TlsCheckConfig } from '../config/kinds/tls.js';
import { describeError, reasonFromError } from './errors.js';
import { formatHostPort, formatMs, parseHostPort } from './probe-support.js';

/**
 * TLS certificate check: handshake with the endpoint, read the peer chain,
 * close the connection at once, then judge the chain:
 *
 * 1. any certificate of the chain past its not-after → UNHEALTHY cert_expired
 * 2. leaf not valid for server_name → UNHEALTHY cert_hostname
 * 3. with `verify`: chain not trusted (system roots + ca_file), or a
 *    certificate not valid yet → UNHEALTHY cert_untrusted
 * 4. soonest expiry in the chain ≤ critical_days → UNHEALTHY cert_expiring,
 *    ≤ warn_days → DEGRADED cert_expiring; else HEALTHY.
 *
 * Time comes from ctx.clock, so expiry is judged on the check's clock; the
 * OpenSSL verdicts about time (CERT_HAS_EXPIRED, CERT_NOT_YET_VALID), taken on
 * the wall clock, are left out of the trust decision for that reason.
 *
 * The handshake runs with rejectUnauthorized off and Node's own hostname check
 * replaced by a no-op, so that a bad chain can still be inspected; trust comes
 * from `socket.authorized`, the hostname from tls.checkServerIdentity.
 */

const DAY_MS = 86_400_000;
/** The port used when neither address nor `port` names one. */
export const TLS_PORT = 443;
/** Certificates followed up the chain at most (loops and silly chains stop here). */
const MAX_CHAIN = 10;
/** OpenSSL verify results about the validity window, judged on the check's clock instead. */
const TIME_ERRORS: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

interface TlsPlan {
  connectOptions: ConnectionOptions;
  target: string;
  serverName: string;
  warnDays: number;
  criticalDays: number;
  verify: boolean;
}

/** Builds a TLS certificate runner (throws for a config it cannot run). It holds no connection between runs. */
export const tlsCheck: CheckFactory<TlsCheckConfig> = (spec) => new TlsCheckRunner(compilePlan(spec));

/** Node's hostname check, switched off: the runner checks the name itself against server_name. */
function noIdentityCheck(): undefined {
  return undefined;
}

function compilePlan(spec: CheckSpec<TlsCheckConfig>): TlsPlan {
  const c = spec.config;
  const { host, port: addrPort } = parseHostPort(c.address ?? spec.address);
  const port = c.port ?? addrPort ?? TLS_PORT;
  const serverName = c.server_name ?? host;
  const connectOptions: ConnectionOptions = {
    host,
    port,
    rejectUnauthorized: false,
    checkServerIdentity: noIdentityCheck,
  };
  // SNI carries host names only (RFC 6066); Node warns when given an IP.
  if (isIP(serverName) === 0) connectOptions.servername = serverName;
  if (c.ca_file !== undefined) {
    const pem = readFileSync(c.ca_file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`ca_file ${c.ca_file} holds no PEM certificate`);
    // Made once: parsing the system roots on every handshake would cost more than the handshake.
    connectOptions.secureContext = createSecureContext({ ca: [...rootCertificates, pem] });
  }
  return {
    connectOptions,
    target: formatHostPort(host, port),
    serverName,
    warnDays: c.warn_days,
    criticalDays: c.critical_days,
    verify: c.verify,
  };
}

class TlsCheckRunner implements CheckRunner {
  constructor(readonly plan: TlsPlan) {}

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (ctx.signal.aborted) return Promise.resolve(outcome.unhealthy('timeout', 'aborted before start'));
    return new Promise<ProbeOutcome>((resolve) => {
      new TlsProbe(this.plan, ctx.clock, ctx.signal, resolve).start();
    });
  }

  close(): void {}
}

const kProbe = Symbol('healthmesh.tlsProbe');
type ProbeSocket = TLSSocket & { [kProbe]: TlsProbe };

function onConnect(this: ProbeSocket): void {
  this[kProbe].tcpConnected();
}
function onSecureConnect(this: ProbeSocket): void {
  this[kProbe].secured();
}
function onError(this: ProbeSocket, err: Error): void {
  this[kProbe].failed(err);
}
function onClose(this: ProbeSocket): void {
  this[kProbe].closed();
}

const PHASE_CONNECT = 'connecting';
const PHASE_HANDSHAKE = 'in the TLS handshake';

/** One run; also the listener of the run's AbortSignal. Settles once via finish(). */
class TlsProbe {
  private done = false;
  private socket: ProbeSocket | null = null;
  private readonly t0: number;
  private phase = PHASE_CONNECT;

  constructor(
    private readonly plan: TlsPlan,
    private readonly clock: Clock,
    private readonly signal: AbortSignal,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    this.t0 = clock.now();
  }

  start(): void {
    this.signal.addEventListener('abort', this);
    let socket: ProbeSocket;
    try {
      socket = connect(this.plan.connectOptions) as ProbeSocket;
    } catch (err) {
      this.failed(err);
      return;
    }
    socket[kProbe] = this;
    this.socket = socket;
    socket.on('error', onError);
    socket.once('connect', onConnect);
    socket.once('secureConnect', onSecureConnect);
    socket.once('close', onClose);
  }

  /** AbortSignal listener: the attempt timed out. */
  handleEvent(): void {
    if (this.done) return;
    const elapsed = this.clock.now() - this.t0;
    this.finish(outcome.unhealthy('timeout', `timed out after ${formatMs(elapsed)} ${this.phase} (${this.plan.target})`));
  }

  tcpConnected(): void {
    this.phase = PHASE_HANDSHAKE;
  }

  secured(): void {
    if (this.done) return;
    const socket = this.socket as ProbeSocket;
    const leaf = socket.getPeerCertificate(true);
    const authorized = socket.authorized;
    // Typed as Error, but Node sets the OpenSSL code string.
    const authError = authorized ? undefined : verifyCode(socket.authorizationError);
    // Everything needed is read: close before judging. Not destroy(): the client's Finished
    // may still be in the write queue, and a server would log a failed handshake.
    socket.destroySoon();
    this.finish(judge(this.plan, leaf, authError, this.clock.now()), false);
  }

  failed(err: unknown): void {
    if (this.done) return;
    let reason: Reason = reasonFromError(err);
    let text = describeError(err);
    if (this.phase === PHASE_HANDSHAKE && reason !== 'timeout') {
      // A peer that resets or hangs up mid-handshake refused our TLS: a handshake failure.
      reason = 'tls';
      text = `TLS handshake failed: ${text}`;
    }
    this.finish(outcome.unhealthy(reason, `${text} (${this.plan.target})`));
  }

  closed(): void {
    if (this.done) return;
    const reason: Reason = this.phase === PHASE_HANDSHAKE ? 'tls' : 'connect_reset';
    this.finish(outcome.unhealthy(reason, `connection closed ${this.phase} (${this.plan.target})`));
  }

  private finish(result: ProbeOutcome, destroy = true): void {
    this.done = true;
    this.signal.removeEventListener('abort', this);
    // The 'error' listener stays: a destroyed socket may still report a late error.
    if (destroy) this.socket?.destroy();
    this.resolve(result);
  }
}

function verifyCode(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e !== null && typeof e === 'object') {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return 'UNKNOWN_VERIFY_ERROR';
}

/** The peer chain from the leaf up, as far as Node could follow it (the root when it knew it). */
function chainOf(leaf: DetailedPeerCertificate): PeerCertificate[] {
  const chain: PeerCertificate[] = [leaf];
  let cur: DetailedPeerCertificate = leaf;
  while (chain.length < MAX_CHAIN) {
    const next = cur.issuerCertificate as DetailedPeerCertificate | undefined;
    // A self-signed certificate is its own issuer (the same object, or an equal copy).
    if (next === undefined || next === null || next === cur || next.raw === undefined) break;
    if (next.fingerprint256 === cur.fingerprint256) break;
    chain.push(next);
    cur = next;
  }
  return chain;
}

/** Turns the peer chain into the outcome, on the time `now` (epoch ms). Pure. */
function judge(plan: TlsPlan, leaf: DetailedPeerCertificate, authError: string | undefined, now: number): ProbeOutcome {
  if (leaf === undefined || leaf === null || leaf.raw === undefined) {
    return outcome.unhealthy('tls', `server sent no certificate (${plan.target})`);
  }
  const chain = chainOf(leaf);
  const leafNotAfter = Date.parse(leaf.valid_to);
  if (Number.isNaN(leafNotAfter)) {
    return outcome.unhealthy('tls', `certificate has an unreadable not-after date ${JSON.stringify(leaf.valid_to)}`);
  }
  let soonest = 0;
  let soonestNotAfter = leafNotAfter;
  let notYetValid = -1;
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i] as PeerCertificate;
    const notAfter = i === 0 ? leafNotAfter : Date.parse(c.valid_to);
    if (notAfter < soonestNotAfter) {
      soonest = i;
      soonestNotAfter = notAfter;
    }
    if (notYetValid < 0 && Date.parse(c.valid_from) > now) notYetValid = i;
  }
  const leafDays = (leafNotAfter - now) / DAY_MS;
  const minDays = (soonestNotAfter - now) / DAY_MS;
  const metrics = {
    days_left: round3(leafDays),
    chain_length: chain.length,
    chain_min_days_left: round3(minDays),
  };
  const summary =
    `${nameOf(leaf.subject)}, issuer ${nameOf(leaf.issuer)}, ` +
    `${leafDays >= 0 ? `${formatDays(leafDays)} left` : `expired ${formatDays(-leafDays)} ago`} ` +
    `(not after ${isoDate(leafNotAfter)})`;
  const which = soonest === 0 ? 'certificate' : `${roleOf(chain, soonest)} ${nameOf((chain[soonest] as PeerCertificate).subject)}`;

  if (soonestNotAfter <= now) {
    const head = soonest === 0 ? 'certificate expired' : `${which} expired ${formatDays(-minDays)} ago (${isoDate(soonestNotAfter)})`;
    return outcome.unhealthy('cert_expired', `${head}: ${summary}`, metrics);
  }
  const identityError = checkServerIdentity(plan.serverName, leaf);
  if (identityError !== undefined) {
    return outcome.unhealthy('cert_hostname', `certificate not valid for ${plan.serverName}: ${identityError.message}; ${summary}`, metrics);
  }
  if (plan.verify) {
    if (authError !== undefined && !TIME_ERRORS.has(authError)) {
      return outcome.unhealthy('cert_untrusted', `untrusted certificate chain (${authError}): ${summary}`, metrics);
    }
    if (notYetValid >= 0) {
      const c = chain[notYetValid] as PeerCertificate;
      const who = notYetValid === 0 ? 'certificate' : `${roleOf(chain, notYetValid)} ${nameOf(c.subject)}`;
      return outcome.unhealthy('cert_untrusted', `${who} not valid before ${isoDate(Date.parse(c.valid_from))}: ${summary}`, metrics);
    }
  }
  if (minDays <= plan.warnDays) {
    const critical = minDays <= plan.criticalDays;
    const limit = critical ? `critical_days ${plan.criticalDays}` : `warn_days ${plan.warnDays}`;
    const text =
      soonest === 0
        ? `certificate expiring (${limit}): ${summary}`
        : `${which} expires in ${formatDays(minDays)} (${isoDate(soonestNotAfter)}), before the certificate ` + `(${limit}): ${summary}`;
    return critical ? outcome.unhealthy('cert_expiring', text, metrics) : outcome.degraded('cert_expiring', text, metrics);
  }
  return outcome.healthy(summary, metrics);
}

/** `intermediate` or `root` (the last certificate when it issued itself). */
function roleOf(chain: PeerCertificate[], i: number): string {
  const c = chain[i] as DetailedPeerCertificate;
  const selfIssued = c.issuerCertificate === c || c.issuerCertificate?.fingerprint256 === c.fingerprint256;
  return i === chain.length - 1 && selfIssued ? 'root' : 'intermediate';
}

/** `CN=api.example.com`, else `O=…`, from a subject or issuer. */
function nameOf(dn: PeerCertificate['subject'] | undefined): string {
  if (dn === undefined || dn === null) return '(none)';
  const pick = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
  const cn = pick(dn.CN);
  if (cn !== undefined) return `CN=${cn}`;
  const o = pick(dn.O);
  if (o !== undefined) return `O=${o}`;
  return '(no CN)';
}

function isoDate(ms: number): string {
  return Number.isNaN(ms) ? 'unknown' : new Date(ms).toISOString();
}

function formatDays(days: number): string {
  const d = Math.round(days * 10) / 10;
  return `${d} ${d === 1 ? 'day' : 'days'}`;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
