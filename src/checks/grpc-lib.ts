import { createRequire } from 'node:module';
import type { Channel } from '@grpc/grpc-js';

/**
 * @grpc/grpc-js and the health service definition of grpc-health-check
 * (its proto, parsed by protobufjs at load), required on the first grpc
 * check built: together some 0.3 s of start-up that a process without grpc
 * checks (e.g. `healthmesh check http://…`) does not pay. Both are CommonJS.
 */
export interface GrpcLib {
  grpc: typeof import('@grpc/grpc-js');
  checkPath: string;
  watchPath: string;
  serializeRequest: (request: { service: string }) => Buffer;
  decodeResponse: (message: Buffer) => { status?: unknown };
}

const requireCjs = createRequire(import.meta.url);
let loaded: GrpcLib | null = null;

/** The grpc-js library and health definitions, loaded on first use. */
export function grpcLib(): GrpcLib {
  if (loaded === null) {
    const grpc = requireCjs('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
    const { service } = requireCjs('grpc-health-check') as typeof import('grpc-health-check');
    const check = service.Check;
    const watch = service.Watch;
    if (check === undefined || watch === undefined) throw new Error('grpc-health-check has no Check/Watch method');
    loaded = {
      grpc,
      checkPath: check.path,
      watchPath: watch.path,
      serializeRequest: check.requestSerialize as GrpcLib['serializeRequest'],
      decodeResponse: check.responseDeserialize as GrpcLib['decodeResponse'],
    };
  }
  return loaded;
}

/** gRPC status codes used here (fixed by the gRPC spec). */
export const Code = { OK: 0, CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

/** The raw call type of grpc-js' channel API (not exported by name). */
export type RawCall = ReturnType<Channel['createCall']>;
/** The listener `RawCall.start` takes. */
export type CallListener = Parameters<RawCall['start']>[1];

/** Empty call context for sendMessageWithContext. */
export const NO_CONTEXT = {};
