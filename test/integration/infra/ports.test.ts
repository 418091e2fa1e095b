import test from 'ava';
import { createServer } from 'node:net';
import { choosePort } from '../../../src/infra/ports.js';
import { TributaryError } from '../../../src/errors.js';

test('a taken fixed port fails with an error naming the port; port 0 picks a free one', async (t) => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const taken = (srv.address() as { port: number }).port;
  const err = await t.throwsAsync(choosePort(taken, 'Kafka'), { instanceOf: TributaryError });
  t.regex(err!.message, new RegExp(`port ${taken} .*Kafka.* already in use`));
  t.is(err!.code, 'infra_port_in_use');
  const free = await choosePort(0, 'Kafka');
  t.true(free > 0 && free !== taken);
});
