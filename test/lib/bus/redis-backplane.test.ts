// lib/bus/redis-backplane.ts on its own: the Redis URL as a table of accepted
// and refused forms, the versions it names against package.json, and opening
// it against Debian's redis-server (started here on a free loopback port):
// ready, refused for a wrong password or a port where nothing listens, closed
// twice without complaint. Several brokers on one Redis: test/e2e/redis-backplane.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { REDIS_PACKAGES, maskRedisUrl, openRedisBackplane, parseRedisUrl } from '../../../lib/bus/redis-backplane';
import { TectonicError } from '../../../lib/errors';
import { freePort, repoRoot } from '../../support/node-red-process';
import { type RedisServer, startRedisServer } from '../../support/redis-server';

describe('parseRedisUrl', () => {
  const accepted: Array<[string, object]> = [
    ['redis://127.0.0.1', { host: '127.0.0.1', port: 6379, db: 0 }],
    ['redis://127.0.0.1:6380', { host: '127.0.0.1', port: 6380, db: 0 }],
    ['redis://127.0.0.1:6380/3', { host: '127.0.0.1', port: 6380, db: 3 }],
    ['redis://[::1]:6380', { host: '::1', port: 6380, db: 0 }],
    ['redis://:s3cret@localhost', { host: 'localhost', port: 6379, db: 0, password: 's3cret' }],
    ['redis://site-fra:p%40ss@localhost/1', { host: 'localhost', port: 6379, db: 1, username: 'site-fra', password: 'p@ss' }],
    ['rediss://redis.example:6380', { host: 'redis.example', port: 6380, db: 0, tls: { servername: 'redis.example' } }],
  ];
  for (const [url, expected] of accepted) {
    it(`accepts ${url}`, () => assert.deepEqual(parseRedisUrl(url), expected));
  }

  const refused: Array<[string, RegExp]> = [
    ['', /needs a url/],
    ['   ', /needs a url/],
    ['127.0.0.1:6379', /not a URL/],
    ['localhost:6379', /scheme localhost: is not redis/],
    ['not a url', /not a URL/],
    ['mqtt://127.0.0.1:1883', /scheme mqtt: is not redis/],
    ['redis://127.0.0.1:99999', /not a URL/],
    ['redis://127.0.0.1/zero', /database "zero" is not a number/],
    ['redis://127.0.0.1/1/2', /database "1\/2" is not a number/],
    ['redis://127.0.0.1/?db=2', /query and fragment/],
    ['redis://:hunter2@127.0.0.1/x', /redis:\/\/:\*\*\*@127\.0\.0\.1\/x/],
  ];
  for (const [url, message] of refused) {
    it(`refuses ${JSON.stringify(url)} with BAD_CONFIG`, () => {
      assert.throws(() => parseRedisUrl(url), (err: unknown) => {
        assert.ok(err instanceof TectonicError);
        assert.equal(err.code, 'BAD_CONFIG');
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    });
  }

  it('refuses a value that is not a string (config read from YAML) with BAD_CONFIG', () => {
    assert.throws(() => parseRedisUrl(6379 as unknown as string), { code: 'BAD_CONFIG' });
  });
});

describe('maskRedisUrl', () => {
  const cases: Array<[string, string]> = [
    ['redis://:s3cret@127.0.0.1:6379/0', 'redis://:***@127.0.0.1:6379/0'],
    ['redis://user:s3cret@127.0.0.1', 'redis://user:***@127.0.0.1'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['::garbage', '(an unparsable URL)'],
  ];
  for (const [url, masked] of cases) it(`${url} -> ${masked}`, () => assert.equal(maskRedisUrl(url), masked));
});

describe('REDIS_PACKAGES', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional?: boolean }>;
    devDependencies: Record<string, string>;
    dependencies: Record<string, string>;
  };
  for (const { name, range, tested } of REDIS_PACKAGES) {
    it(`${name}: an optional peer with range ${range}, pinned at ${tested} for the tests, never a runtime dependency`, () => {
      assert.equal(pkg.peerDependencies[name], range);
      assert.equal(pkg.peerDependenciesMeta[name]?.optional, true);
      assert.equal(pkg.devDependencies[name], tested);
      assert.equal(pkg.dependencies[name], undefined);
    });
  }

  it("aedes-persistence-redis's range is inside aedes' own peerOptional range, so npm accepts the tree", () => {
    const aedes = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'aedes', 'package.json'), 'utf8')) as { version: string; peerDependencies: Record<string, string> };
    assert.equal(aedes.version, '1.2.0');
    assert.equal(aedes.peerDependencies['aedes-persistence-redis'], '^11.2.1');
    const ours = REDIS_PACKAGES.find((p) => p.name === 'aedes-persistence-redis');
    assert.equal(ours?.range, '^11.2.2');
  });
});

describe('openRedisBackplane against redis-server', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let guarded: RedisServer;

  before(async () => {
    redis = await startRedisServer();
    guarded = await startRedisServer({ password: 'right-one' });
  });

  after(async () => {
    await redis?.stop();
    await guarded?.stop();
  });

  it('opens on a running Redis, hands aedes a persistence and an emitter, and closes twice without complaint', async () => {
    const backplane = await openRedisBackplane(redis.url);
    assert.equal(typeof (backplane.persistence as { setup?: unknown }).setup, 'function');
    assert.equal(typeof (backplane.mq as { emit?: unknown }).emit, 'function');
    await backplane.close();
    await backplane.close();
  });

  it('opens with the right password', async () => {
    const backplane = await openRedisBackplane(`redis://:right-one@127.0.0.1:${guarded.port}`);
    await backplane.close();
  });

  it('refuses a wrong password at once, with the password masked', async () => {
    const started = Date.now();
    await assert.rejects(openRedisBackplane(`redis://:wrong-one@127.0.0.1:${guarded.port}`), (err: unknown) => {
      assert.ok(err instanceof TectonicError);
      assert.equal(err.code, 'BROKER_START_FAILED');
      assert.match(err.message, /WRONGPASS|invalid password/i);
      assert.match(err.message, /:\*\*\*@127\.0\.0\.1/);
      assert.doesNotMatch(err.message, /wrong-one/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `refused after ${Date.now() - started} ms`);
  });

  it('refuses a port where nothing listens at once, not after ioredis has retried for ever', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(openRedisBackplane(`redis://127.0.0.1:${port}`), (err: unknown) => {
      assert.ok(err instanceof TectonicError);
      assert.equal(err.code, 'BROKER_START_FAILED');
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `refused after ${Date.now() - started} ms`);
  });
});
