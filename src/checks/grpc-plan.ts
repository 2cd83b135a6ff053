import { readFileSync } from 'node:fs';
import type { Channel, ChannelCredentials, ChannelOptions, Metadata } from '@grpc/grpc-js';
import type { CheckSpec } from '../core/check.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { GrpcCheckConfig } from '../config/kinds/grpc.js';
import { describeError } from './errors.js';
import { formatHostPort, parseHostPort } from './probe-support.js';
import type { GrpcLib } from './grpc-lib.js';
import { loadClientCert, type ClientCertPem } from './tls-files.js';

/** The gRPC check's plan (computed once from the spec) and its channel. */

/**
 * HTTP/2 keepalive ping period of a watch channel (ms), to notice a server
 * that vanished without closing the connection. 5 minutes is the least
 * servers accept by default (grpc-go and grpc-java enforce it and send
 * GOAWAY "too_many_pings" to clients that ping more often).
 */
const WATCH_KEEPALIVE_MS = 300_000;
/** Health responses are 2 bytes; anything huge is hostile. */
const MAX_RECEIVE_BYTES = 64 * 1024;
const USER_AGENT = 'healthmesh/0.1';

/** Everything a check needs, computed once from its spec. */
export interface GrpcPlan {
  id: string;
  /** host:port as grpc-js parses it ([v6]:port for IPv6). */
  target: string;
  tls: boolean;
  tlsVerify: boolean;
  caFile: string | undefined;
  /** client_cert, read when the plan is compiled (the runner is built). */
  clientCert: ClientCertPem | null;
  channelOptions: ChannelOptions;
  /** Serialized HealthCheckRequest { service }. */
  request: Buffer;
  /** Template, cloned per call (grpc-js adds headers to the object it is given). */
  metadata: Metadata;
  /** `server` or `service "name"`, for output lines. */
  what: string;
  timeoutMs: number;
  degradedAfterMs: number | undefined;
}

/** Compiles a spec into its plan; throws for an address without a port or an unreadable client_cert. */
export function compilePlan(spec: CheckSpec<GrpcCheckConfig>, lib: GrpcLib): GrpcPlan {
  const c = spec.config;
  const { host, port: addrPort } = parseHostPort(c.address ?? spec.address);
  const port = c.port ?? addrPort;
  if (port === undefined) throw new Error(`no port in ${JSON.stringify(c.address ?? spec.address)} (set port)`);
  const target = formatHostPort(host, port);

  const channelOptions: ChannelOptions = {
    // A connection of its own: checks stay independent and close() frees the socket.
    'grpc.use_local_subchannel_pool': 1,
    // One result = one attempt; the scheduler does retries.
    'grpc.enable_retries': 0,
    // No DNS TXT lookups for a service config.
    'grpc.service_config_disable_resolution': 1,
    'grpc.enable_channelz': 0,
    // Reconnecting is ours (a failed channel is dropped and made anew); a long
    // backoff keeps grpc-js from racing that with a reconnect of its own.
    'grpc.initial_reconnect_backoff_ms': 5_000,
    'grpc.max_reconnect_backoff_ms': 30_000,
    'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
    'grpc.primary_user_agent': USER_AGENT,
  };
  if (c.mode === 'watch') channelOptions['grpc.keepalive_time_ms'] = WATCH_KEEPALIVE_MS;
  if (c.tls && c.tls_server_name !== undefined) channelOptions['grpc.ssl_target_name_override'] = c.tls_server_name;

  const metadata = new lib.grpc.Metadata();
  for (const [key, value] of Object.entries(c.metadata)) metadata.set(key.toLowerCase(), value);

  return {
    id: spec.id,
    target,
    tls: c.tls,
    tlsVerify: c.tls_verify,
    caFile: c.ca_file,
    // Read once here, so a bad file names its field when the check is built, not at every run.
    clientCert: c.tls && c.client_cert !== undefined ? loadClientCert(c.client_cert) : null,
    channelOptions,
    request: lib.serializeRequest({ service: c.service }),
    metadata,
    what: c.service === '' ? 'server' : `service ${JSON.stringify(c.service)}`,
    timeoutMs: spec.timeoutMs,
    degradedAfterMs: c.degraded_after,
  };
}

/** Raised when credentials cannot be built (bad ca_file): config, not target, is to blame. */
class SetupError extends Error {}

/** The check's channel: made on demand, dropped after a connection failure, closed by close(). */
export class Connection {
  private channel: Channel | null = null;
  private creds: ChannelCredentials | null = null;
  closed = false;

  constructor(
    readonly plan: GrpcPlan,
    readonly lib: GrpcLib,
  ) {}

  /** The live channel, made now if there is none. Throws SetupError when credentials cannot be built. */
  get(): Channel {
    if (this.channel !== null) return this.channel;
    const channel = new this.lib.grpc.Channel(this.plan.target, this.credentials(), this.plan.channelOptions);
    this.channel = channel;
    return channel;
  }

  /**
   * After UNAVAILABLE: drop `channel` unless it is connected (then the server
   * itself said UNAVAILABLE and the connection is fine).
   */
  failed(channel: Channel): void {
    if (channel !== this.channel) return;
    if (channel.getConnectivityState(false) === this.lib.grpc.connectivityState.READY) return;
    this.channel = null;
    channel.close();
  }

  close(): void {
    this.closed = true;
    this.channel?.close();
    this.channel = null;
  }

  private credentials(): ChannelCredentials {
    if (this.creds !== null) return this.creds;
    const p = this.plan;
    const credentials = this.lib.grpc.credentials;
    if (!p.tls) {
      this.creds = credentials.createInsecure();
      return this.creds;
    }
    let ca: Buffer | null = null;
    if (p.caFile !== undefined) {
      try {
        ca = readFileSync(p.caFile);
      } catch (err) {
        // Not cached: a ca_file that shows up later is picked up on the next run.
        throw new SetupError(`cannot read ca_file: ${describeError(err)}`);
      }
    }
    const key = p.clientCert?.key ?? null;
    const cert = p.clientCert?.cert ?? null;
    try {
      this.creds = p.tlsVerify
        ? credentials.createSsl(ca, key, cert)
        : credentials.createSsl(ca, key, cert, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
    } catch (err) {
      throw new SetupError(`bad ca_file ${p.caFile ?? ''} or client_cert: ${describeError(err)}`);
    }
    return this.creds;
  }
}

/** The outcome of a call that could not be started (bad credentials or a grpc-js error). */
export function setupFailure(err: unknown, plan: GrpcPlan): ProbeOutcome {
  return err instanceof SetupError
    ? outcome.unknown('error', `grpc check ${plan.id}: ${err.message}`)
    : outcome.unknown('error', `grpc check ${plan.id}: cannot start call: ${describeError(err)}`);
}
