import test from 'ava';
import { newClusterId } from '../../../src/infra/kafka.js';

test('new KRaft cluster ids are 22 base64url characters and never start with a dash', (t) => {
  // 1 in 64 raw ids would start with '-': over 5,000 draws the unguarded version fails with
  // near certainty (the 2026-12-04 CI run met one: "argument --cluster-id/-t: expected one argument").
  const ids = Array.from({ length: 5_000 }, () => newClusterId());
  t.true(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id)));
  t.is(new Set(ids).size, ids.length);
});
