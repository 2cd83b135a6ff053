/**
 * Addresses of bench/daemon-scale's targets: check i gets its own loopback
 * address 127.1.0.1 + i (all of 127/8 reaches a listener on 0.0.0.0), so
 * every check is a distinct instance and a connection's 4-tuple differs per
 * check (no shortage of ephemeral ports at 10 000 new connections a second).
 */
export function addressOf(i: number): string {
  const v = (1 << 16) + 1 + i;
  return `127.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}`;
}

/** The probe kind of check i: services of 100 checks, 7 of every 10 services HTTP. */
export function isHttp(i: number, perService = 100): boolean {
  return Math.floor(i / perService) % 10 < 7;
}
