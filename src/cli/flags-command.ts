// `tributary flags …`: fleet-wide and per-app feature flags on the flags topic (docs/flags.md),
// validated before producing; `list` shows what is set and any record the nodes refuse.
import type { Command } from 'commander';
import { ConfigError, ErrorCode } from '../errors.js';
import { print, withClient, type CommonOptions } from './integrations-command.js';

function parseOnOff(value: string): boolean {
  if (/^(on|true)$/i.test(value)) return true;
  if (/^(off|false)$/i.test(value)) return false;
  throw new ConfigError(ErrorCode.configInvalid, 'invalid flag setting', [{ path: 'value', message: `"${value}" is not on or off` }]);
}

/** `tributary flags …`: fleet-wide and per-app feature flags on the flags topic (docs/flags.md). */
export function registerFlagsCommands(program: Command): void {
  const root = program
    .command('flags')
    .description('set, clear and list fleet-wide and per-app feature flags on the flags topic (nodes apply them without a restart)');
  const common = (c: Command): Command =>
    c
      .option('--config <file>', 'node config file (JSON; environment overrides it)')
      .option('--brokers <list>', 'Kafka brokers, host:port[,host:port]')
      .option('--json', 'print JSON');
  const scopeText = (app: string | undefined) => (app === undefined ? 'fleet-wide' : `for app ${app}`);

  common(root.command('set <flag> <on|off>').description('turn a flag on or off fleet-wide, or for one app with --app'))
    .option('--app <key>', 'only this Airship app (above the fleet-wide value, below an integration spec\'s own flags)')
    .action(async (flag: string, value: string, o: CommonOptions & { app?: string }) => {
      const on = parseOnOff(value);
      await withClient(o, async (c) => {
        const w = await c.setFlag(flag, on, o.app);
        print(o, w, `${flag} ${on ? 'on' : 'off'} ${scopeText(o.app)} (flags record ${w.key}, offset ${w.offset})`);
      });
    });

  common(root.command('clear <flag>').description('remove a flag setting (fleet-wide, or for one app with --app): the layer below applies again'))
    .option('--app <key>', 'only this Airship app')
    .action(async (flag: string, o: CommonOptions & { app?: string }) =>
      withClient(o, async (c) => {
        const w = await c.setFlag(flag, null, o.app);
        print(o, w, `${flag} cleared ${scopeText(o.app)} (flags record ${w.key}, offset ${w.offset})`);
      }),
    );

  common(root.command('list').description('the flags set on the flags topic, and any record the nodes refuse')).action(async (o: CommonOptions) =>
    withClient(o, async (c) => {
      const { settings, refused } = await c.flags();
      const lines = settings.length === 0 ? ['(no flags set on the flags topic)'] : settings.map((s) => `${s.scope.padEnd(24)} ${s.name.padEnd(28)} ${s.value ? 'on' : 'off'}`);
      for (const r of refused) lines.push(`refused record ${r.key}: ${r.reason.replace(/\n\s*/g, ' ')}`);
      print(o, { settings, refused }, lines.join('\n'));
    }),
  );
}
