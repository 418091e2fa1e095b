import test from 'ava';
import { ConfigError } from '../../../../src/errors.js';
import { compileConnectClientOptions } from '../../../../src/connect/client/options.js';

test('defaults follow the design: LATEST, 1 MiB lines, 30 s idle, ×3 backoff from 1 s capped at 60 s', (t) => {
  const o = compileConnectClientOptions({ appKey: 'app', token: 'secret' });
  t.like(o, {
    baseUrl: 'https://connect.urbanairship.com',
    path: '/api/events',
    start: 'LATEST',
    maxLineBytes: 1024 * 1024,
    poisonHeadBytes: 1024,
    idleTimeoutMs: 30_000,
    maxConsecutiveBadLines: 5,
    maxRedirects: 5,
    backoff: { initialMs: 1000, multiplier: 3, maxMs: 60_000 },
    allowAnyHost: false,
    enableOffsetUpdates: false,
  });
});

test('bad options name every bad key and never echo the token', (t) => {
  const e = t.throws(
    () =>
      compileConnectClientOptions({
        appKey: '',
        token: 'sekrit-token',
        resumeOffset: 'abc',
        filters: [],
        backoff: { initialMs: -1 },
        // @ts-expect-error an unknown key must be refused
        surprise: true,
      }),
    { instanceOf: ConfigError },
  );
  const paths = e?.issues.map((i) => i.path) ?? [];
  for (const p of ['appKey', 'resumeOffset', 'filters', 'backoff.initialMs', 'surprise']) t.true(paths.includes(p), `${p} in ${paths.join(',')}`);
  t.false(e?.message.includes('sekrit-token'));
});
