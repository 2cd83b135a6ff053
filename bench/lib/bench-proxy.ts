/**
 * healthmesh's proxy as the proxy benches run it: one route to one HEALTHY
 * instance of the real balancer (default config), on 127.0.0.1:port.
 */
import { pino } from 'pino';
import { ServiceBalancer } from '../../src/balancer/service-balancer.js';
import { balancerSchema, proxySchema } from '../../src/config/balancer.js';
import { realClock } from '../../src/core/clock.js';
import { realRandom } from '../../src/core/random.js';
import { startProxy, type ProxyEngine } from '../../src/proxy/proxy.js';

/** The running proxy; close() also stops the balancer (its outlier sweep is a timer). */
export async function startBenchProxy(port: number, upstream: string, engine: ProxyEngine): Promise<{ close(): Promise<void> }> {
  const balancer = new ServiceBalancer({ service: 'bench', config: balancerSchema.parse({}), clock: realClock, random: realRandom });
  balancer.setMembers([{ id: 'nginx-1', address: upstream, weight: 1, status: 'HEALTHY', score: 100 }]);
  const config = proxySchema.parse({ listen: `127.0.0.1:${port}`, routes: [{ path_prefix: '/', service: 'bench' }] });
  const proxy = await startProxy({ config, upstreams: { balancer: () => balancer }, clock: realClock, logger: pino({ level: 'warn' }), engine });
  return {
    close: async () => {
      await proxy.close();
      balancer.close();
    },
  };
}
