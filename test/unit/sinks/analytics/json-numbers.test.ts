// Big numbers in Connect JSON survive parsing as strings; everything else parses as JSON.parse does.
import test from 'ava';
import fc from 'fast-check';
import { isExactDouble, parseConnectJson, quoteUnsafeNumbers } from '../../../../src/sinks/analytics/json-numbers.js';

test('integers beyond 2^53 and over-precise decimals become strings; ordinary numbers do not', (t) => {
  t.deepEqual(parseConnectJson('{"v":12345678901234567890,"w":9007199254740993,"x":9007199254740991,"y":1.5,"z":-3e2}'), {
    v: '12345678901234567890',
    w: '9007199254740993',
    x: 9007199254740991,
    y: 1.5,
    z: -300,
  });
  t.deepEqual(parseConnectJson('[0.1000000000000000055511151231257827, 0.1]'), ['0.1000000000000000055511151231257827', 0.1]);
  t.is(quoteUnsafeNumbers('{"s":"12345678901234567890 \\" 99999999999999999999"}'), '{"s":"12345678901234567890 \\" 99999999999999999999"}', 'strings untouched');
});

test('property: any JSON value without unsafe numbers is unchanged; safe integers round-trip', (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const text = JSON.stringify(v);
      return JSON.stringify(parseConnectJson(text)) === JSON.stringify(JSON.parse(text));
    }),
  );
  fc.assert(fc.property(fc.maxSafeInteger(), (n) => isExactDouble(String(n))));
  t.pass();
});

test('property: any big integer literal survives as its exact digits', (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (n) => {
      const parsed = parseConnectJson(`{"value":${n}}`) as { value: unknown };
      // A number only when the double holds exactly these digits; otherwise the digits as a string.
      const exact = String(Number(n)) === n.toString();
      return exact ? parsed.value === Number(n) : parsed.value === n.toString();
    }),
  );
  t.pass();
});
