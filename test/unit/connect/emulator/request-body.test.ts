import test from 'ava';
import { connectErrorCode } from '../../../../src/connect/emulator/error-response.js';
import { parseRequestBody } from '../../../../src/connect/emulator/request-body.js';

function rejected(text: string) {
  const r = parseRequestBody(text);
  if (r.ok) throw new Error(`expected ${text} to be rejected`);
  return r;
}

test('an empty body or {} streams from LATEST without offset updates', (t) => {
  for (const text of ['', '  ', '{}']) t.deepEqual(parseRequestBody(text), { ok: true, request: { start: 'LATEST', offsetUpdates: false } });
});

test('accepts every documented key, notifications as object or array, predicate scope as string or array', (t) => {
  const body = {
    resume_offset: '1245',
    enable_offset_updates: true,
    subset: { type: 'PARTITION', count: 4, selection: 3 },
    filters: [
      { types: ['OPEN'], device_types: ['ios', 'android'], devices: [{ channel: 'c' }, { named_user_id: 'n' }], notifications: { push_id: 'p' }, latency: 20_000 },
      { notifications: [{ group_id: 'g' }, { push_id: 'p' }], users: [{ contact_id: 'x' }] },
      { predicates: [{ and: [{ key: 'type', value: { equals: 'CUSTOM' } }, { scope: ['body'], key: 'name', value: { equals: 'x' } }, { scope: 'body', key: 'value', value: { at_least: 1 } }] }] },
    ],
  };
  const r = parseRequestBody(JSON.stringify(body));
  t.true(r.ok);
  if (r.ok) {
    t.is(r.request.resumeOffset, 1245);
    t.true(r.request.offsetUpdates);
    t.is(r.request.filters?.length, 3);
  }
});

test('an unknown key is 400 with its path, at any depth', (t) => {
  t.like(rejected('{"start":"EARLIEST","colour":1}'), { errorCode: connectErrorCode.unknownKey, details: { path: 'colour' } });
  t.like(rejected('{"filters":[{"types":["OPEN"],"device":"x"}]}'), { errorCode: connectErrorCode.unknownKey, details: { path: 'filters.0.device' } });
  t.like(rejected('{"subset":{"type":"SAMPLE","proportion":0.5,"seed":1}}'), { errorCode: connectErrorCode.unknownKey });
});

test('an empty array anywhere is 400', (t) => {
  t.like(rejected('{"filters":[]}'), { errorCode: connectErrorCode.emptyArray, details: { path: 'filters' } });
  t.like(rejected('{"filters":[{"device_types":[]}]}'), { errorCode: connectErrorCode.emptyArray, details: { path: 'filters.0.device_types' } });
  t.like(rejected('{"filters":[{"devices":[]}]}'), { errorCode: connectErrorCode.emptyArray });
});

test('start with resume_offset, invalid JSON and bad values are 400', (t) => {
  t.like(rejected('{"start":"LATEST","resume_offset":"1"}'), { errorCode: connectErrorCode.startWithResume });
  t.like(rejected('{"start"'), { errorCode: connectErrorCode.invalidJson });
  t.like(rejected('[]'), { errorCode: connectErrorCode.invalidValue });
  t.like(rejected('{"resume_offset":"abc"}'), { errorCode: connectErrorCode.invalidValue, details: { path: 'resume_offset' } });
  t.like(rejected('{"filters":[{"device_types":["windows"]}]}'), { errorCode: connectErrorCode.invalidValue });
  t.like(rejected('{"filters":[{"devices":[{"channel":"a","named_user_id":"b"}]}]}'), { errorCode: connectErrorCode.invalidValue });
  t.like(rejected('{"subset":{"type":"SAMPLE","proportion":2}}'), { errorCode: connectErrorCode.invalidValue });
  t.like(rejected('{"subset":{"type":"PARTITION","count":3,"selection":3}}'), { details: { path: 'subset.selection' } });
  t.like(rejected('{"enable_offset_updates":"yes"}'), { errorCode: connectErrorCode.invalidValue });
});
