/**
 * The database with every write synced (LevelDB `sync: true`), for an
 * embedded broker that must keep what it acknowledged through a power cut or
 * an OS crash, not only through a killed process (docs/outbox.md, "What
 * durable means", has the cost). aedes-persistence-level takes no write
 * options of its own: it writes with put, del, batch(ops) and a chained batch
 * (contract test in test/lib/bus/aedes-contract.test.ts), and each gets
 * `sync: true` here. Its clear() (a clean session's QoS 2 receipts, on
 * disconnect) takes no sync option in classic-level; a clear lost to a power
 * cut leaves receipts behind and loses no message.
 *
 * Methods run on the database itself, whose private state a proxy as `this`
 * could not reach.
 */
export function withSyncedWrites<D extends object>(db: D): D {
  const synced = <O extends object>(options: O | undefined): O & { sync: true } => ({ ...(options ?? ({} as O)), sync: true });
  const chained = (batch: object): object => {
    const wrapped: object = new Proxy(batch, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (property === 'write') return (options?: object) => method.call(target, synced(options));
        return (...args: unknown[]): unknown => {
          const result = method.apply(target, args);
          // put() and del() return the batch for chaining: keep the chain on the proxy.
          return result === target ? wrapped : result;
        };
      },
    });
    return wrapped;
  };
  return new Proxy(db, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      switch (property) {
        case 'put':
          return (key: unknown, data: unknown, options?: object) => method.call(target, key, data, synced(options));
        case 'del':
          return (key: unknown, options?: object) => method.call(target, key, synced(options));
        case 'batch':
          return (...args: unknown[]): unknown => {
            if (args.length === 0) return chained(method.call(target) as object);
            return method.call(target, args[0], synced(args[1] as object | undefined));
          };
        default:
          return method.bind(target);
      }
    },
  });
}
