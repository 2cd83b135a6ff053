import { z } from 'zod';
import { commonCheckFields, duration } from '../common.js';

/**
 * Config of the `exec` kind: run a program (a Nagios/Monitoring Plugin or any
 * command following the plugin protocol) and map its exit code to a status.
 *
 * `command` is always an argv array. Without `shell` it is run directly (no
 * shell, no quoting issues); with `shell: true` it must hold exactly one
 * string, run as `/bin/sh -c <string>`. `{{address}}`, `{{host}}` and
 * `{{port}}` in any element are replaced by the instance address parts.
 */

const argument = z.string().refine((s) => !s.includes('\0'), { message: 'must not contain a NUL character' });

/** The `exec` check as written in the config file. */
export const execCheckSchema = z
  .strictObject({
    kind: z.literal('exec'),
    ...commonCheckFields,
    command: z
      .array(argument)
      .min(1, 'give at least the program, e.g. ["/usr/lib/nagios/plugins/check_disk", "-w", "10%"]')
      .refine((argv) => argv[0] !== '', { message: 'the program (first element) must not be empty' })
      .meta({
        description:
          'Program and arguments (argv, no shell), e.g. ["check_tcp", "-H", "{{host}}", "-p", "{{port}}"]; ' +
          'with shell: true, exactly one element run by /bin/sh -c. Placeholders: {{address}}, {{host}}, {{port}}',
      }),
    shell: z.boolean().default(false).meta({ description: 'Run the single command string with /bin/sh -c (pipes, redirections, globbing)' }),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use a variable name: letters, digits and "_"'), argument)
      .default({})
      .meta({ description: 'Environment variables, set over the inherited ones' }),
    inherit_env: z.boolean().default(false).meta({ description: "Pass the daemon's whole environment (default: only PATH, HOME and LANG)" }),
    cwd: z.string().min(1).optional().meta({ description: "Working directory (default: the daemon's)" }),
    max_output_bytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024)
      .default(64 * 1024)
      .meta({ description: 'Stdout kept per run; the rest is read and dropped so the plugin never blocks' }),
    kill_grace: duration
      .default(1000)
      .refine((ms) => ms <= 60_000, { message: 'must be at most 60s' })
      .meta({ description: 'At the timeout: SIGTERM to the process group, SIGKILL this long after' }),
  })
  .superRefine((c, ctx) => {
    if (c.shell && c.command.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        input: c.command,
        message: `with shell: true give exactly one command string (got ${c.command.length} elements), e.g. ["check_x | head -1"]`,
      });
    }
  });

/** A validated exec check config (defaults applied, kill_grace in ms). */
export type ExecCheckConfig = z.output<typeof execCheckSchema>;
