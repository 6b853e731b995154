import { createRequire } from 'node:module';
import { TectonicError } from '../errors';

export interface RedisBackplane {
  persistence: unknown;
  mq: unknown;
  close(): Promise<void>;
}

// A variable, so neither the compiler nor a bundler follows it: the module and
// the Redis packages it needs are loaded only by a broker configured for Redis.
const BACKPLANE_MODULE = '../bus/redis-backplane';

/**
 * aedes' Redis persistence and emitter, for several broker processes serving
 * one bus (persistence `{ kind: redis, url }`). Loaded at start only when
 * configured, so a site that never uses Redis neither installs nor loads them.
 */
export async function openRedisBackplane(url: string): Promise<RedisBackplane> {
  let open: (url: string) => Promise<RedisBackplane>;
  try {
    open = (createRequire(__filename)(BACKPLANE_MODULE) as { openRedisBackplane: typeof open }).openRedisBackplane;
  } catch (err) {
    throw new TectonicError('BROKER_START_FAILED', 'redis persistence needs the packages aedes-persistence-redis and mqemitter-redis (npm install them beside the pack)', { cause: err });
  }
  return open(url);
}
