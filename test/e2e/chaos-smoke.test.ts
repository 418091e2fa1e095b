// The chaos suite's short subset (RELIABILITY.md): one crash point, one Connect fault, one sink
// fault, a SIGTERM drain with the integrations on threads, the SSRF variants and the canary secret,
// with smaller sizes than `npm run chaos`.
// Each scenario checks its oracle: every served event delivered or dead-lettered (lost = 0),
// duplicates only re-sends of served ids.
import test from 'ava';
import { smokeScenarios } from '../../chaos/scenarios.js';

for (const scenario of smokeScenarios) {
  test.serial(`chaos smoke: ${scenario.name} (${scenario.rows})`, async (t) => {
    const r = await scenario.run();
    t.log(`lost ${r.lost}, dup ${r.duplicates}, recovery ${r.recoveryMs ?? '–'} ms, drain ${r.drainMs ?? '–'} ms, peak RSS ${r.peakRssMb} MB, ${r.durationMs} ms`);
    for (const n of r.notes) t.log(n);
    t.is(r.lost, 0, 'no served event lost');
    t.true(r.dupAllResends, 'duplicates are re-sends of served ids');
    t.true(r.pass, r.notes.join('; '));
  });
}
