// The SSRF guard's pure core: address classification (checked against Node's own BlockList),
// URL policy over many spellings of refused addresses, and the connect-time lookup.
import test from 'ava';
import fc from 'fast-check';
import { BlockList } from 'node:net';
import { checkAddress, parseIPv6 } from '../../../../src/sinks/http/ip-policy.js';
import { checkSinkUrl } from '../../../../src/sinks/http/url-policy.js';
import { guardedLookup, type Resolver } from '../../../../src/sinks/http/ssrf-agent.js';

const production = { local: false };
const local = { local: true };

const refusedV4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const oracle = new BlockList();
for (const [net, bits] of refusedV4) oracle.addSubnet(net, bits, 'ipv4');

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const dotted = ([a, b, c, d]: [number, number, number, number]): string => `${a}.${b}.${c}.${d}`;
const u32 = ([a, b, c, d]: [number, number, number, number]): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

test('every IPv4 address is judged exactly as a BlockList of the refused ranges judges it', (t) => {
  fc.assert(
    fc.property(v4, (q) => {
      const blocked = oracle.check(dotted(q), 'ipv4');
      return checkAddress(dotted(q), production).allowed === !blocked;
    }),
    { numRuns: 20_000 },
  );
  t.pass();
});

test('named addresses: metadata, loopback, private, CGNAT, broadcast and their IPv6 forms are refused', (t) => {
  for (const a of ['169.254.169.254', '169.254.170.2', '127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1',
    '::1', '::', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', '::127.0.0.1', '2001:db8::1', 'not-an-ip']) {
    t.false(checkAddress(a, production).allowed, a);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '1.1.1.1']) t.true(checkAddress(a, production).allowed, a);
});

test('local mode allows loopback and nothing else that production refuses', (t) => {
  for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) t.true(checkAddress(a, local).allowed, a);
  for (const a of ['169.254.169.254', '169.254.170.2', '10.0.0.1', '192.168.0.1', 'fd00::1', 'fe80::1', '0.0.0.0', '::']) {
    t.false(checkAddress(a, local).allowed, a);
  }
});

test('IPv4-mapped, NAT64 and 6to4 forms are judged by the IPv4 address they embed', (t) => {
  fc.assert(
    fc.property(v4, (q) => {
      const n = u32(q);
      const hex = (x: number): string => (x >>> 0).toString(16);
      const hi = hex(n >>> 16);
      const lo = hex(n & 0xffff);
      const expected = checkAddress(dotted(q), production).allowed;
      return (
        checkAddress(`::ffff:${dotted(q)}`, production).allowed === expected &&
        checkAddress(`::ffff:${hi}:${lo}`, production).allowed === expected &&
        checkAddress(`0:0:0:0:0:ffff:${hi}:${lo}`, production).allowed === expected &&
        checkAddress(`64:ff9b::${hi}:${lo}`, production).allowed === expected &&
        checkAddress(`2002:${hi}:${lo}::1`, production).allowed === expected
      );
    }),
    { numRuns: 5_000 },
  );
  t.pass();
});

test('parseIPv6 round-trips every address Node formats', (t) => {
  fc.assert(
    fc.property(fc.ipV6(), (a) => {
      const b = parseIPv6(a);
      if (!b) return false;
      const back = new BlockList();
      back.addAddress(a, 'ipv6');
      const words = Array.from({ length: 8 }, (_, i) => ((b[i * 2]! << 8) | b[i * 2 + 1]!).toString(16)).join(':');
      return back.check(words, 'ipv6');
    }),
    { numRuns: 3_000 },
  );
  t.pass();
});

// Every way of writing a refused IPv4 address in a URL host that WHATWG URL accepts.
const spellings = ([a, b, c, d]: [number, number, number, number]): string[] => {
  const n = u32([a, b, c, d]);
  return [
    `${a}.${b}.${c}.${d}`,
    `${a}.${(b << 16) | (c << 8) | d}`, // 127.1
    `${a}.${b}.${(c << 8) | d}`,
    String(n), // 2130706433
    `0x${n.toString(16)}`,
    `0x${a.toString(16)}.${(b << 16) | (c << 8) | d}`, // 0x7f.1
    `0${a.toString(8)}.${b}.${c}.${d}`, // 0177.0.0.1
    `${a}.${b}.${c}.${d}.`,
    `%3${String(a)[0]}${String(a).slice(1)}.${b}.${c}.${d}`, // percent-encoded first digit
    `[::ffff:${a}.${b}.${c}.${d}]`,
    `[::ffff:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}]`,
  ];
};

const refusedAddress = fc.constantFrom(...refusedV4).chain(([net, bits]) => {
  const base = u32(net.split('.').map(Number) as [number, number, number, number]);
  return fc.nat(Math.min(2 ** (32 - bits) - 1, 2 ** 31 - 1)).map((off) => {
    const n = (base + off) >>> 0;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255] as [number, number, number, number];
  });
});

test('no spelling of a refused address passes the URL policy, in production or (non-loopback) local mode', (t) => {
  fc.assert(
    fc.property(refusedAddress, fc.constantFrom('https', 'http'), fc.constantFrom('', ':8443'), (q, scheme, port) => {
      for (const host of spellings(q)) {
        const url = `${scheme}://${host}${port}/hook`;
        if (checkSinkUrl(url, production).ok) throw new Error(`accepted ${url}`);
        if (q[0] !== 127 && checkSinkUrl(url, local).ok) throw new Error(`accepted ${url} in local mode`);
      }
      return true;
    }),
    { numRuns: 2_000 },
  );
  t.pass();
});

test('URL policy: the checklist variants, with the reason named', (t) => {
  const refused: [string, RegExp][] = [
    ['https://127.1/', /non-canonical/],
    ['https://0x7f.1/', /non-canonical/],
    ['https://2130706433/', /non-canonical/],
    ['https://0177.0.0.1/', /non-canonical/],
    ['https://[::ffff:127.0.0.1]/', /IPv4-mapped/],
    ['https://[::ffff:7f00:1]/', /IPv4-mapped/],
    ['https://169.254.169.254/latest/meta-data', /link-local/],
    ['https://169.254.170.2/v2/credentials', /link-local/],
    ['https://[::1]/', /loopback/],
    ['https://10.0.0.8/', /private/],
    ['http://hooks.example.com/', /must be https/],
    ['https://user:pw@hooks.example.com/', /userinfo/],
    ['https://@hooks.example.com/', /userinfo/],
    ['https://localhost/', /loopback/],
    ['https://hooks.example.com/#frag', /fragment/],
    ['ftp://hooks.example.com/', /must be https/],
    ['not a url', /absolute URL/],
    ['https://ho%6fks.example.com/', /canonical/],
  ];
  for (const [url, reason] of refused) {
    const v = checkSinkUrl(url, production);
    t.false(v.ok, url);
    if (!v.ok) t.regex(v.problem, reason, url);
  }
  for (const url of ['https://hooks.example.com/ingest?team=a', 'https://HOOKS.example.com:8443/x', 'https://93.184.216.34/x', 'https://bücher.example/x']) {
    t.true(checkSinkUrl(url, production).ok, url);
  }
  t.true(checkSinkUrl('http://127.0.0.1:8080/x', local).ok);
  t.true(checkSinkUrl('http://localhost:8080/x', local).ok);
  t.false(checkSinkUrl('http://127.1:8080/x', local).ok, 'non-canonical stays refused in local mode');
  t.false(checkSinkUrl('http://169.254.169.254/', local).ok);
  t.false(checkSinkUrl('http://192.168.1.10/', local).ok);
});

// ——— the connect-time lookup, with an injected resolver ———

const lookupWith = (resolver: Resolver, policy = production, all = false) =>
  new Promise<{ err: unknown; address: unknown }>((resolve) => {
    guardedLookup(policy, resolver)('name.test', { all }, ((err: unknown, address: unknown) => resolve({ err, address })) as never);
  });

test('a hostname resolving to the metadata address is refused at connect time', async (t) => {
  const r = await lookupWith(async () => [{ address: '169.254.169.254', family: 4 }]);
  t.is((r.err as { code?: string }).code, 'ssrf_blocked');
});

test('a hostname with one internal address among public ones is refused (rebinding)', async (t) => {
  const r = await lookupWith(async () => [{ address: '93.184.216.34', family: 4 }, { address: 'fd00::5', family: 6 }], production, true);
  t.is((r.err as { code?: string }).code, 'ssrf_blocked');
});

test('a hostname resolving to public addresses passes, in both lookup shapes', async (t) => {
  const resolver: Resolver = async () => [{ address: '93.184.216.34', family: 4 }];
  t.is((await lookupWith(resolver)).address, '93.184.216.34');
  t.deepEqual((await lookupWith(resolver, production, true)).address, [{ address: '93.184.216.34', family: 4 }]);
});

test('any refused address returned by the resolver is refused by the lookup', async (t) => {
  await fc.assert(
    fc.asyncProperty(refusedAddress, async (q) => {
      const r = await lookupWith(async () => [{ address: dotted(q), family: 4 }], q[0] === 127 ? production : local);
      return (r.err as { code?: string } | null)?.code === 'ssrf_blocked';
    }),
    { numRuns: 500 },
  );
  t.pass();
});
