// The spec v1 schema as JSON Schema (draft 2020-12), for customers' tooling. Generated from the
// zod schema (the one source of truth) and committed as docs/spec.schema.json; a test keeps them equal.
import { z } from 'zod';
import { makeSpecSchema } from './spec.js';

export function specJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(makeSpecSchema({ local: false }), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const properties = { ...(generated.properties as Record<string, Record<string, unknown>>) };
  // Each sink type validates its own config (docs/sinks/<type>.md); new sink types must not need a
  // schema change here, so the schema only fixes the discriminator.
  properties.sink = {
    type: 'object',
    description: 'Sink config: `type` picks the sink (webhook, file, …); the other keys are that sink\'s (docs/sinks/<type>.md).',
    properties: { type: { type: 'string', minLength: 1 } },
    required: ['type'],
    additionalProperties: true,
  };
  const connect = { ...properties.connect! } as Record<string, unknown>;
  const connectProps = connect.properties as Record<string, { anyOf?: Record<string, unknown>[] }>;
  // Production nodes accept only references; an inline {"value"} is for local mode (its own check).
  const reference = connectProps.token?.anyOf?.find((o) => 'ref' in ((o.properties as object | undefined) ?? {}));
  if (!reference) throw new Error('spec JSON Schema: connect.token has no {"ref"} variant (secretRefSchema changed?)');
  connect.properties = {
    ...connectProps,
    url: { type: 'string', format: 'uri', description: 'https://connect.urbanairship.com/api/events or https://connect.asnapieu.com/api/events' },
    token: { ...reference, description: 'A secret reference: {"ref":"env:NAME"} or {"ref":"file:/path"}. Nodes in local mode also accept an inline {"value":"…"}; production nodes refuse it.' },
  };
  properties.connect = connect;
  return {
    $schema: generated.$schema,
    $id: 'https://tributary.dev/schemas/integration-spec-v1.json',
    title: 'Tributary integration spec v1',
    description:
      'The desired state of one integration, written to the tributary.control topic keyed by its id. Documents are limited to 64 KiB. Secrets are references ({"ref":"env:NAME"} or {"ref":"file:/path"}).',
    ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== '$schema')),
    properties,
  };
}

/** The committed file's exact text. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}
